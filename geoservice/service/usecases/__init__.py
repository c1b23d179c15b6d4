"""The questions the faces ask, one module per family: routing queries, matrices, places, planning,
plans and the plan report, dispatch, certification, the nation, calibration, edits and imports."""
