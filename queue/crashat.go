package queue

import (
	"fmt"
	"strconv"
	"strings"
)

// CrashAtEnv names the environment variable that a binary built with the
// faultinject tag reads to kill itself at a crash point: a list of
// "point:n" separated by commas, meaning "SIGKILL this process the nth time
// it reaches point" (see the Point constants, and runners.PointAccepted and
// runners.PointJournaled). Binaries built without the tag ignore it.
const CrashAtEnv = "CLOISTER_CRASH_AT"

// ParseCrashAt reads a CrashAtEnv value into the occurrence at which each
// point kills the process.
func ParseCrashAt(spec string) (map[string]int, error) {
	at := map[string]int{}
	for _, f := range strings.Split(spec, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		point, ns, ok := strings.Cut(f, ":")
		n, err := strconv.Atoi(ns)
		if !ok || point == "" || err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not point:n with n >= 1", CrashAtEnv, f)
		}
		at[point] = n
	}
	return at, nil
}
