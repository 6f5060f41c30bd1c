"""Pseudo-labeling walkthrough videos with an IDM (`nitrogen-hf label`, `nitrogen-hf render`).

labeler.py     decode a video of any length segment by segment, one action per frame
segments.py    where the segments start, so they equal one pass over the whole video
decoding.py    open a video decoded straight to the IDM's input size
filters.py     pure drop rules (static, idle, low confidence) and their precedence
chunks.py      kept frames -> NitroGen chunks (short and inactive pieces dropped)
output.py      atomic chunk writing and per-video done markers
provenance.py  model checksum, labeler version, thresholds: what the labels depend on
worker.py      one video: label, filter, write its chunks and done marker (both engines)
pipeline.py    the job: find videos, skip finished ones, label the rest, report
ray_engine.py  the same job on a Ray cluster
report.py      OUT/label_report.json
render.py      labels drawn over the video for a visual check
"""
