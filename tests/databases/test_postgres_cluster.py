"""The throw-away cluster works: a login with a password over TCP, through ibis."""

from __future__ import annotations

import ibis
import pandas as pd


def test_the_test_login_reaches_the_cluster_through_ibis(pg_url):
    con = ibis.connect(pg_url)
    try:
        frame = pd.DataFrame({"patient_id": ["a", "b"], "ck_peak": [1200.0, None]})
        t = con.create_table("smoke", frame, overwrite=True)
        assert t.count().execute() == 2
        assert t.ck_peak.isnull().sum().execute() == 1
        con.drop_table("smoke")
    finally:
        con.disconnect()
