"""The label job's report."""

from nitrogen_hf.labeling.report import merge_label_reports


def test_label_reports_of_several_runs_merge_into_one():
    def report(hours_in, kept, dropped, fps, seconds):
        return {
            "hours_in": hours_in,
            "hours_kept": kept,
            "kept_fraction": kept / hours_in,
            "hours_dropped": {"static": dropped, "idle": 0.0},
            "frames_per_second": fps,
            "wall_seconds": seconds,
            "min_confidence_source": "calibrated",
        }

    merged = merge_label_reports(
        [report(1.0, 0.5, 0.5, 100.0, 10.0), report(3.0, 2.5, 0.5, None, 1.0)]
    )
    assert merged["hours_in"] == 4.0 and merged["kept_fraction"] == 0.75
    assert merged["hours_dropped"] == {"static": 1.0, "idle": 0.0}
    assert merged["frames_per_second"] == 100.0  # a run that labeled nothing has no rate
    assert merged["min_confidence_source"] == "calibrated"
