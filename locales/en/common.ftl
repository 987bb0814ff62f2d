# Shared by every page: the language's own name, the header, roles.
lang-name = English
nav-skip = Skip to the content
nav-label = Main
nav-stacks = Stacks
nav-audit = Audit log
nav-users = Users
nav-webhooks = Webhooks
nav-sign-out = Sign out
nav-language = Language
role-viewer = viewer
role-operator = operator
role-admin = admin
# Used only by the catalogue's own tests: a plural chosen by a number.
test-count = { $count ->
    [one] { $count } item
   *[other] { $count } items
}
