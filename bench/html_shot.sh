#!/usr/bin/env bash
# html_shot.sh REPORT.html|RESULTS.sqlite [OUT.png] - render a latsurf HTML
# report in headless Chromium (Debian package chromium) and check that the
# screenshot is not blank (bench/png_check.py). Given a database, the page is
# made first with `latsurf report DB --html` ($LATSURF_BIN, else build/latsurf).
# Exit 0: rendered and not blank; 1: blank or failed; 77: chromium missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
in=${1:?usage: html_shot.sh REPORT.html|RESULTS.sqlite [OUT.png]}
out=${2:-${in%.*}.png}
chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$chrome" ]; then
  echo "html_shot: chromium not installed (Debian: apt-get install chromium); skipped" >&2
  exit 77
fi
case "$in" in
  *.html|*.htm) page=$in ;;
  *)
    bin=${LATSURF_BIN:-$here/../build/latsurf}
    page=${out%.png}.html
    "$bin" report "$in" --html "$page"
    ;;
esac
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --screenshot="$out" --window-size=1200,2000 \
  "file://$(realpath "$page")" >/dev/null 2>&1 || true
[ -s "$out" ] || { echo "html_shot: chromium wrote no screenshot" >&2; exit 1; }
python3 "$here/png_check.py" "$out"
