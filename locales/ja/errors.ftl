# ブラウザーに表示するエラーページ (API のエラーは英語の JSON のまま)。
# ステータスコードごとの理由句。
errors-reason-400 = 不正なリクエスト
errors-reason-401 = 認証が必要です
errors-reason-403 = アクセスが拒否されました
errors-reason-404 = 見つかりません
errors-reason-409 = 競合
errors-reason-413 = リクエストが大きすぎます
errors-reason-422 = 処理できないリクエスト
errors-reason-429 = リクエストが多すぎます
errors-reason-500 = サーバー内部エラー
errors-reason-502 = ゲートウェイエラー
errors-reason-503 = サービス利用不可
errors-sign-in = サインイン
errors-back = スタック一覧に戻る
# Web 層が自ら書くメッセージ。
errors-unauthenticated = 先にサインインしてください。
errors-session-expired = セッションの有効期限が切れました。もう一度サインインしてください。
# $need と $have はロール名 (role-viewer、role-operator、role-admin)。
errors-forbidden = この操作には{ $need }のロールが必要です。現在のロールは{ $have }です。
errors-csrf = CSRF トークンがないか、正しくありません。ページを再読み込みして、もう一度お試しください。
errors-too-large = リクエスト本文が、このエンドポイントで受け付ける { $kib } KiB を超えています。
errors-unsupported-media-type = Content-Type は { $expected } にしてください。
errors-throttled = サインインの試行回数が多すぎます。{ $seconds } 秒後にもう一度お試しください。
errors-internal = サーバーで問題が発生しました。詳細はログに記録されています。
errors-invalid-many = { $count } 個のフィールドが無効です。
errors-no-page = { $path } にページはありません。
