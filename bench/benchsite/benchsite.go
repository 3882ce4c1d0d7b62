// Package benchsite holds what the bench programs (fanoute2e, latency,
// faults) share when they build a site to measure: the subscribers'
// addresses, the list with its members, and the machine's load.
package benchsite

import (
	"fmt"
	"os"
	"strings"
	"time"

	"cloister/internal/site"
	"cloister/lists"
)

// Member is the address of the bench list's i-th subscriber.
func Member(i int) string { return fmt.Sprintf("s%05d@subs.test", i) }

// MakeList creates list on the site with the settings given and n members,
// Member(0) to Member(n-1), in one transaction.
func MakeList(s *site.Site, list string, settings map[string]string, n int) error {
	return s.Lists.Update(func(tx *lists.Tx) error {
		l, err := lists.NewList(list, time.Now())
		if err != nil {
			return err
		}
		for name, v := range settings {
			if err := l.Settings.Set(name, v); err != nil {
				return fmt.Errorf("setting %s: %w", name, err)
			}
		}
		if err := tx.CreateList(l); err != nil {
			return err
		}
		for i := range n {
			if err := tx.AddMember(list, &lists.Member{Address: Member(i), Roles: []lists.Role{lists.RoleMember}}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Loadavg is the machine's 1, 5 and 15 minute load averages, or "?".
func Loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
