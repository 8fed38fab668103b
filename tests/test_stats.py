from pipeline.stats import build_report, render_table, stage


def test_report_orders_stages_and_checks_accounting():
    counts = [
        (("read", "in"), 10), (("read", "out"), 7), (("read", "drop:non_200"), 3),
        (("extract", "in"), 7), (("extract", "out"), 7),
    ]
    report = build_report(counts, ["files", "read", "extract", "write"])
    assert [s["stage"] for s in report["stages"]] == ["files", "read", "extract", "write"]
    assert stage(report, "read")["dropped"] == {"non_200": 3}
    assert report["accounting_ok"]
    table = render_table(report)
    assert "non_200=3" in table and table.splitlines()[0].startswith("stage")
    bad = build_report([(("read", "in"), 10), (("read", "out"), 9)], ["read"])
    assert not bad["accounting_ok"] and not bad["stages"][0]["balanced"]
