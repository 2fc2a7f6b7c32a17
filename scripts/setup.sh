#!/usr/bin/env bash
# Sets up PromoGuard on a fresh machine: a virtual environment in .venv with the package and
# everything its tests need. Needs only python3 >= 3.11; system packages (Java for Spark) are
# installed with apt-get when missing and we are root. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "promoguard setup: python3 >= 3.11 is required" >&2
  exit 1
fi

want_system=${PROMOGUARD_SYSTEM_DEPS:-auto}
apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    if [ ! -f /tmp/.promoguard-apt-updated ]; then
      apt-get update -qq && touch /tmp/.promoguard-apt-updated
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "promoguard setup: please install $* (not root, or no apt-get)" >&2
  fi
}

if [ "$want_system" != "no" ]; then
  # Spark (the --engine spark option and its parity tests) runs on a Java 17+ runtime.
  if ! command -v java >/dev/null 2>&1; then
    apt_install openjdk-17-jre-headless || apt_install default-jre-headless
  fi
  # The web tier's browser tests drive Debian's chromium through Playwright (Playwright's own
  # browser download is never used). The CJK font below also serves its Chinese screenshots.
  if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium
  fi
  # The case database's tests run against a throwaway PostgreSQL server started from these binaries.
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt_install postgresql
  fi
  # Guidance notices as PDF: WeasyPrint needs pango, and Chinese text needs a CJK font.
  if ! ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0; then
    apt_install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
  fi
  if ! ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1; then
    apt_install fonts-noto-cjk
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[spark,test]'
