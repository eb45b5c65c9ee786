#!/bin/sh
# Add Reasoning Inspector to the desktop's application menu, or remove it again.
#
#   install_desktop.sh [--prefix DIR] [APP_DIR]        install the menu entry, metainfo and icons
#   install_desktop.sh [--prefix DIR] --uninstall      remove them (the app folder is left alone)
#
# APP_DIR is a built app folder (the one holding the `inspector` executable, made by
# packaging/build_app.py); by default the build this script sits in (APP_DIR/linux/). A
# checkout's .venv/bin works too, with this script run from the checkout's packaging/linux.
# Files go to ${XDG_DATA_HOME:-~/.local/share}, or to DIR/share with --prefix DIR (or
# $PREFIX), e.g. --prefix /usr/local for every user (as root).
set -eu

APP_ID=io.github.reasoning_inspector.ReasoningInspector
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
[ -n "${PREFIX:-}" ] && DATA=$PREFIX/share
UNINSTALL=0
APP_DIR=

usage() { sed -n '2,12s/^# \{0,1\}//p' "$0"; exit "$1"; }
fail() { echo "install_desktop.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case $1 in
        --prefix) [ $# -ge 2 ] || usage 2; DATA=$2/share; shift 2 ;;
        --uninstall) UNINSTALL=1; shift ;;
        -h|--help) usage 0 ;;
        -*) usage 2 ;;
        *) APP_DIR=$1; shift ;;
    esac
done

refresh() {  # the menu and icon caches, where the desktop keeps them
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$DATA/applications" 2>/dev/null || true
    fi
    # only where an icon cache is kept already (a stale cache would hide icons)
    if [ -f "$DATA/icons/hicolor/icon-theme.cache" ] \
        && command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -f -t "$DATA/icons/hicolor" 2>/dev/null || true
    fi
}

if [ "$UNINSTALL" = 1 ]; then
    rm -f "$DATA/applications/$APP_ID.desktop" "$DATA/metainfo/$APP_ID.metainfo.xml"
    rm -f "$DATA"/icons/hicolor/*/apps/"$APP_ID".png "$DATA"/icons/hicolor/*/apps/"$APP_ID".svg
    refresh
    echo "removed $APP_ID from $DATA"
    exit 0
fi

[ -n "$APP_DIR" ] || APP_DIR=$HERE/..
[ -x "$APP_DIR/inspector" ] && [ -f "$APP_DIR/inspector" ] \
    || fail "no 'inspector' executable in $APP_DIR (give the built app folder)"
APP_DIR=$(cd "$APP_DIR" && pwd)
ICONS=$APP_DIR/_internal/resources/icons/hicolor
[ -d "$ICONS" ] || ICONS=$HERE/../../resources/icons/hicolor  # APP_DIR=.venv/bin of a checkout
[ -d "$ICONS" ] || fail "no icons in $APP_DIR/_internal/resources/icons/hicolor"
case $APP_DIR in
    *[\"\`\$\\%]*) fail "the app folder's path may not contain \" \` \$ \\ or %: $APP_DIR" ;;
esac

mkdir -p "$DATA/applications" "$DATA/metainfo"
while IFS= read -r line; do
    case $line in
        Exec=*) printf 'Exec="%s"\n' "$APP_DIR/inspector" ;;
        TryExec=*) printf 'TryExec=%s\n' "$APP_DIR/inspector" ;;
        *) printf '%s\n' "$line" ;;
    esac
done <"$HERE/$APP_ID.desktop" >"$DATA/applications/$APP_ID.desktop"
cp "$HERE/$APP_ID.metainfo.xml" "$DATA/metainfo/"
for icon in "$ICONS"/*/apps/"$APP_ID".*; do
    size=$(basename "$(dirname "$(dirname "$icon")")")
    mkdir -p "$DATA/icons/hicolor/$size/apps"
    cp "$icon" "$DATA/icons/hicolor/$size/apps/"
done
refresh
echo "installed $APP_ID into $DATA (runs $APP_DIR/inspector)"
