# アカウントページの言語とタイムゾーンの設定。
prefs-title = 言語とタイムゾーン
prefs-language = 言語
prefs-language-browser = ブラウザーの設定に従う (Accept-Language)
prefs-zone = タイムゾーン
prefs-zone-hint = すべてのページの時刻をこのタイムゾーンで表示し、タイムゾーン名を併記します。
prefs-save = 設定を保存
prefs-saved = 言語とタイムゾーンを保存しました。
prefs-bad-language = { $value } は hawaf が対応していない言語です。English または 日本語 を選択してください。
prefs-bad-zone = { $value } は hawaf が認識できないタイムゾーンです。UTC や Asia/Tokyo など、一覧から選択してください。
