# check.sh - the check helpers of the guest scripts (nvme.sh, rdma.sh), which
# source it; guest.sh copies it into every guest as /guest/check.sh. Each
# check prints "ok - WHAT" or "not ok - WHAT"; a failure sets $failed, and
# the script ends with `exit $failed`.
failed=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failed=1; }
check() { # check "what" command...: the command's status decides
  what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
