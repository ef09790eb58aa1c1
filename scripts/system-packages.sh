#!/usr/bin/env bash
# Install the Debian packages najma's pictures, reports and browser tests use, when missing:
# chromium (kaleido draws figures with it; the dashboard tests drive it), Arabic-capable fonts,
# poppler-utils (pdftoppm renders report pages to check them), and a Java runtime for the Spark
# engine's tests when no java is on the PATH (Spark 4 needs Java 17 or later). Needs root or sudo.
set -euo pipefail
packages=(chromium fonts-noto-core poppler-utils)
command -v java >/dev/null || packages+=(openjdk-17-jre-headless)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "najma needs ${missing[*]} (Debian package names); install them with your system's package manager" >&2
  exit 1
fi
run=()
[ "$(id -u)" -eq 0 ] || run=(sudo)
echo "installing ${missing[*]} with apt-get" >&2
"${run[@]}" apt-get update -qq
"${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
