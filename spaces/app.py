"""NitroGen IDM Space: label a gameplay video with an inverse dynamics model and see the
predicted gamepad drawn over it. The logic lives in `nitrogen_hf.space.backend`; this file
only lays out the UI."""

from pathlib import Path

import gradio as gr

from nitrogen_hf.space.backend import (
    IMAGE_SUFFIXES,
    SpaceConfig,
    label_handler,
    policy_handler,
)
from nitrogen_hf.space.timeline import CHUNK_COLUMNS, SEGMENT_COLUMNS

SPACE_DIR = Path(__file__).resolve().parent
CONFIG = SpaceConfig.from_env(SPACE_DIR)

INTRO = f"""# NitroGen IDM: gamepad actions from gameplay video
Upload a gameplay video (at most {CONFIG.max_video_seconds:.0f} s and
{CONFIG.max_upload_mb:.0f} MB) or click the Breakout example. An inverse dynamics model (IDM)
predicts the gamepad action of every frame with a confidence; the labeler's filters drop idle,
static and low-confidence stretches, and the rest is written as NitroGen chunks. Without a
checkpoint the Space uses its bundled demo IDM, a tiny model trained on Atari Breakout only
(its calibrated threshold keeps little of the short example, which therefore uses 0.5)."""

with gr.Blocks(title="NitroGen IDM") as demo:
    gr.Markdown(INTRO)
    with gr.Tab("Label a video"):
        with gr.Row():
            with gr.Column():
                video = gr.Video(label="Gameplay video", sources=["upload"], elem_id="input-video")
                checkpoint = gr.Textbox(
                    label="IDM checkpoint",
                    placeholder="empty: the bundled demo IDM; or a folder or Hub id (user/idm)",
                    elem_id="idm-checkpoint",
                )
                use_calibrated = gr.Checkbox(
                    value=True, label="Use the IDM's calibrated confidence threshold"
                )
                min_confidence = gr.Slider(
                    0, 1, value=0.5, step=0.01, label="...or drop stretches below this confidence"
                )
                label_button = gr.Button("Label video", variant="primary", elem_id="label-button")
                gr.Examples(
                    CONFIG.label_examples(),
                    inputs=[video, checkpoint, use_calibrated, min_confidence],
                    label="Example: Atari Breakout (recorded with nitrogen-hf record), threshold 0.5",
                    cache_examples=False,
                    elem_id="video-examples",
                )
            with gr.Column():
                status = gr.Markdown("Results appear here.", elem_id="status")
                labeled = gr.Video(label="Predicted gamepad", elem_id="labeled-video")
        timeline = gr.Image(label="Timeline", type="filepath", elem_id="timeline")
        segments = gr.Dataframe(
            headers=list(SEGMENT_COLUMNS), label="Kept and dropped segments", elem_id="segments"
        )
        labels_zip = gr.File(label="Labels: NitroGen layout (zip)", elem_id="labels-zip")
        label_button.click(
            label_handler(CONFIG),
            inputs=[video, checkpoint, use_calibrated, min_confidence],
            outputs=[labeled, timeline, segments, labels_zip, status],
        )
    with gr.Tab("Policy on a frame"):
        with gr.Row():
            with gr.Column():
                frame = gr.Image(label="Game frame", type="numpy", elem_id="policy-frame")
                policy = gr.Textbox(
                    label="Policy checkpoint",
                    placeholder="empty: the bundled demo policy; or a folder or Hub id",
                )
                game = gr.Textbox(label="Game (game-conditioned policies only)")
                policy_button = gr.Button(
                    "Predict actions", variant="primary", elem_id="policy-button"
                )
                gr.Examples(
                    CONFIG.examples(IMAGE_SUFFIXES),
                    inputs=[frame],
                    label="Example: a Breakout frame",
                    cache_examples=False,
                    elem_id="frame-examples",
                )
            with gr.Column():
                policy_status = gr.Markdown(elem_id="policy-status")
                chunk_plot = gr.Image(
                    label="Predicted action chunk", type="filepath", elem_id="chunk-plot"
                )
        chunk_table = gr.Dataframe(
            headers=list(CHUNK_COLUMNS), label="Action chunk", elem_id="chunk-table"
        )
        policy_button.click(
            policy_handler(CONFIG),
            inputs=[frame, policy, game],
            outputs=[chunk_table, chunk_plot, policy_status],
        )

if __name__ == "__main__":
    demo.launch(
        max_file_size=f"{CONFIG.max_upload_mb:.0f}mb",
        allowed_paths=[str(SPACE_DIR / "examples")],
    )
