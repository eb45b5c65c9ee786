"""The Experiments page: run a data set, read calibration and accuracy over saved runs."""
