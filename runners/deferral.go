package runners

import (
	"fmt"
	"sort"
	"strings"
)

// maxDeferralReason bounds DeferralReason's text, which goes into the
// entry's metadata and the log.
const maxDeferralReason = 1000

// DeferralReason sums up why the MTA deferred recipients (recipient to SMTP
// reply or connection error) for Meta.LastError and the warn line of a
// deferred delivery: the one reason when all share it ("dial tcp
// 127.0.0.1:25: connect: connection refused"), else each distinct reason
// with its count, the commonest first.
func DeferralReason(temp map[string]string) string {
	count := map[string]int{}
	for _, reply := range temp {
		reply = strings.Join(strings.Fields(reply), " ")
		if reply == "" {
			reply = "no reason given"
		}
		count[reply]++
	}
	reasons := make([]string, 0, len(count))
	for r := range count {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if count[reasons[i]] != count[reasons[j]] {
			return count[reasons[i]] > count[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	var text string
	if len(reasons) == 1 {
		text = reasons[0]
	} else {
		parts := make([]string, len(reasons))
		for i, r := range reasons {
			parts[i] = fmt.Sprintf("%s (%d recipients)", r, count[r])
		}
		text = strings.Join(parts, "; ")
	}
	if len(text) > maxDeferralReason {
		text = text[:maxDeferralReason] + "..."
	}
	return text
}
