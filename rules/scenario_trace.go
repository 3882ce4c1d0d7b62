package rules

import (
	"fmt"
	"strings"
)

// FormatScenarioTrace renders an evaluation for `cloister scenario explain`:
// one entry per rule tried, saying whether its method applied, whether its
// condition held and why, and which rule decided. For example:
//
//	scenario send.private, method smtp
//	  line 3  is_subscriber([listname],[sender]) smtp,md5,pgp,smime -> do_it
//	          no: is_subscriber([listname]="l@example.org", [sender]="x@example.net") is false
//	  line 6  true() smtp,md5,pgp,smime -> reject(reason='send_subscriber')
//	          DECIDES: true() is true
//	decision: reject(reason='send_subscriber') (line 6)
func FormatScenarioTrace(d Decision, trace []Trace) string {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s, method %s\n", d.Scenario, quoteEmpty(d.Method))
	for _, t := range trace {
		fmt.Fprintf(&b, "  line %-3d %s\n", t.Line, t.Rule)
		verdict := "no"
		switch {
		case t.Decided:
			verdict = "DECIDES"
		case !t.MethodOK:
			verdict = "skipped"
		}
		fmt.Fprintf(&b, "           %s: %s\n", verdict, t.Why)
	}
	if d.Line == 0 {
		fmt.Fprintf(&b, "decision: %s (no rule matched: rejected)\n", d)
	} else {
		fmt.Fprintf(&b, "decision: %s (line %d)\n", d, d.Line)
	}
	return b.String()
}
