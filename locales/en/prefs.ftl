# The Account page's language and time zone settings.
prefs-title = Language and time zone
prefs-language = Language
prefs-language-browser = As my browser asks (Accept-Language)
prefs-zone = Time zone
prefs-zone-hint = Times on every page are shown in this zone, and named next to them.
prefs-save = Save settings
prefs-saved = Your language and time zone are saved.
prefs-bad-language = { $value } is not a language hawaf speaks: choose English or 日本語.
prefs-bad-zone = { $value } is not a time zone hawaf knows: choose one from the list, such as UTC or Asia/Tokyo.
