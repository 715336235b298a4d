# scripts/lib/debian.sh — sourced by the scripts that read Debian's archive (ft-python for
# CPython's source package, sid-chroot for Debian unstable's interpreters).  Defines functions only.

# ngr_debian_mirror: print the URI of the machine's own Debian mirror: the first archive whose URI
# ends in /debian (not -security) in /etc/apt/sources.list.d/*.sources (deb822 format), else in
# /etc/apt/sources.list or sources.list.d/*.list (one-line format).  The project never names a
# mirror itself; it uses the one this machine's apt uses.  Returns 1, printing nothing, when there
# is none.  (Other archives on the machine, such as a vendor's, are not Debian mirrors: skipped.)
ngr_debian_mirror() {
    local f mirror=""
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        mirror=$(awk '/^URIs:/ {for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) {print $i; exit}}' "$f")
        [ -n "$mirror" ] && break
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -z "$mirror" ] && [ -f "$f" ] || continue
        mirror=$(awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\/.*\/debian\/?$/) {print $i; exit}}' "$f")
    done
    [ -n "$mirror" ] || return 1
    echo "$mirror"
}
