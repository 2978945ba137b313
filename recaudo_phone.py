"""Entry file for `flet build apk`: Flet's build looks for `<tool.flet.app.module>.py` directly
inside `tool.flet.app.path`, and the app needs the repository root on its path (it imports
`mobile`, `sync` and `shared`), so the entry sits here and hands over to mobile.main. It runs on
import, as the packaged app executes it, with no command-line options (a phone has none)."""

from mobile.main import run

run([])
