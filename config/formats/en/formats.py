# Dates a child reads: day, month in words, year, 24-hour time. Never "12/03/2026"
# (12 March in most of the world, 3 December in the US) nor "10:03 a.m.".
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
