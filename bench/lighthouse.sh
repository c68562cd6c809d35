#!/usr/bin/env bash
# Lighthouse (mobile, its default) on / and the math-heaviest demo post, served the way
# production serves them: DJANGO_DEBUG=0, collected static files, gunicorn, the demo posts.
#
#   bench/lighthouse.sh            # installs lighthouse@12.2.3 into a temporary folder
#   LIGHTHOUSE=/path/to/lighthouse bench/lighthouse.sh
#
# Needs node/npm and Chromium (CHROME_PATH, default /usr/bin/chromium). Prints the four
# scores of each page; the reports (JSON) stay in the temporary folder it names.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d /tmp/kb-lighthouse-XXXXXX)"
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
if [ -z "${LIGHTHOUSE:-}" ]; then
  (cd "$work" && npm i -E --silent --no-audit --no-fund lighthouse@12.2.3 >/dev/null)
  LIGHTHOUSE="$work/node_modules/.bin/lighthouse"
fi
port="$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export DJANGO_DEBUG=0 DJANGO_SECRET_KEY="lighthouse-$(date +%s)-only-for-this-run-$$" \
  DJANGO_ALLOWED_HOSTS=127.0.0.1 KB_DATA_DIR="$work/data" KB_STATIC_ROOT="$work/static" \
  KB_LOG_LEVEL=WARNING DATABASE_URL="sqlite:///$work/data/kb.sqlite3"
unset CACHE_URL REDIS_URL
mkdir -p "$work/data"
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py load_demo --if-empty >/dev/null
.venv/bin/python manage.py collectstatic --noinput -v 0
GUNICORN_ACCESS_LOG="" GUNICORN_BIND="127.0.0.1:$port" GUNICORN_WORKERS=2 .venv/bin/gunicorn -c kb/gunicorn_conf.py kb.wsgi:application &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
status=0
for path in / /posts/attention-cost/; do
  name="$(echo "$path" | tr '/' '_')"
  "$LIGHTHOUSE" "http://127.0.0.1:$port$path" --quiet --output=json --output-path="$work/report$name.json" \
    --only-categories=performance,accessibility,best-practices,seo \
    --chrome-flags="--headless=new --no-sandbox --disable-gpu" >/dev/null 2>&1 || status=1
  .venv/bin/python - "$work/report$name.json" "$path" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
scores = {k: round(v["score"] * 100) for k, v in report["categories"].items()}
low = [k for k, v in scores.items() if v < 95]
print(f"{sys.argv[2]:24} " + "  ".join(f"{k} {v}" for k, v in scores.items()) + ("  (below 95: " + ", ".join(low) + ")" if low else ""))
for audit in report["audits"].values():
    if audit.get("score") is not None and audit["score"] < 0.9 and audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings"):
        print(f"    {audit['id']}: {audit.get('displayValue', '')} {audit['title']}")
PY
done
echo "reports in $work"
exit $status
