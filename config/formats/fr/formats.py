# See config/formats/en/formats.py: the month in words, 24-hour time.
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = r"j F Y \à H\hi"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = r"j M Y \à H\hi"
TIME_FORMAT = r"H\hi"
