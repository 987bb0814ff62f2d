-- Each user's language ('en', 'ja') and time zone (an IANA name) for the
-- dashboard (issue 18). NULL: the browser's Accept-Language, and UTC.
ALTER TABLE users ADD COLUMN language TEXT;
ALTER TABLE users ADD COLUMN time_zone TEXT;
