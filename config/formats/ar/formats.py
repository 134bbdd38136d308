# See config/formats/en/formats.py: the month in words, 24-hour time. Django's own
# Arabic formats have no SHORT_DATETIME_FORMAT, so SMS dates fell back to "12/04/2026",
# read as 12 April.
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y، H:i"
SHORT_DATE_FORMAT = "j F Y"
SHORT_DATETIME_FORMAT = "j F Y، H:i"
TIME_FORMAT = "H:i"
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
