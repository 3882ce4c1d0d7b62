package bounce

import (
	"regexp"
	"strings"

	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
)

// textParsers try the plain-text formats in turn.
var textParsers = []func(text, subject string) (*Report, bool){parseExim, parseQmail, parseGmail}

// plainText returns the first text/plain part of a message (decoded, LF line
// endings) and its decoded Subject.
func plainText(msg []byte) (text, subject string) {
	top, err := rawmime.Parse(msg)
	if err != nil {
		return "", ""
	}
	subject = mailmsg.DecodeHeader(top.Fields.Get("Subject"))
	found := false
	rawmime.Walk(top, maxDepth, maxParts, func(_ []int, e *rawmime.Entity) error {
		if found {
			return rawmime.SkipChildren
		}
		mt, _, err := e.MediaType()
		if err == nil && mt == "text/plain" {
			text, found = string(decodeBody(e)), true
		}
		return nil
	})
	return strings.ReplaceAll(text, "\r\n", "\n"), subject
}

// decodeBody undoes a part's Content-Transfer-Encoding (rawmime.Decode, at
// most MaxInput bytes); a part it cannot decode is returned as it is.
func decodeBody(e *rawmime.Entity) []byte {
	b, err := e.DecodedBody(MaxInput)
	if err != nil && len(b) == 0 {
		return e.Body
	}
	return b
}

// section returns the lines of text after the first line containing start,
// up to the first line containing one of the ends.
func section(text, start string, ends ...string) ([]string, bool) {
	i := strings.Index(text, start)
	if i < 0 {
		return nil, false
	}
	rest := text[i:]
	if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
		rest = rest[nl+1:]
	} else {
		rest = ""
	}
	for _, e := range ends {
		if j := strings.Index(rest, e); j >= 0 {
			rest = rest[:j]
		}
	}
	return strings.Split(rest, "\n"), true
}

// indentedAddresses reads a list of "  address" lines each followed by
// more deeply indented detail lines, as Exim and Gmail write them.
func indentedAddresses(lines []string, permanent bool) []Recipient {
	var out []Recipient
	var cur *Recipient
	var detail []string
	flush := func() {
		if cur == nil {
			return
		}
		d := strings.Join(detail, " ")
		cur.Diagnostic = oneLine(d)
		cur.Status = statusIn(d)
		cur.Permanent = permanent && !strings.HasPrefix(cur.Status, "4.")
		if !cur.Permanent {
			cur.Action = "delayed"
		}
		out = append(out, *cur)
		cur, detail = nil, nil
	}
	for _, l := range lines {
		trimmed := strings.TrimSpace(l)
		if trimmed == "" {
			continue
		}
		indent := len(l) - len(strings.TrimLeft(l, " \t"))
		if a := cleanAddress(trimmed); a != "" && !strings.Contains(trimmed, " ") && indent <= 6 {
			flush()
			if len(out) == MaxRecipients {
				break
			}
			cur = &Recipient{Address: a, Action: "failed"}
			continue
		}
		if cur != nil {
			detail = append(detail, trimmed)
		}
	}
	flush()
	return out
}

// parseExim reads Exim's "Mail delivery failed: returning message to
// sender" (permanent) and "Warning: message ... delayed" (temporary).
func parseExim(text, subject string) (*Report, bool) {
	ends := []string{"------ This is a copy", "------ The body of the message", "No action is required", "Reporting-MTA:"}
	if lines, ok := section(text, "The following address(es) failed:", ends...); ok {
		return &Report{Format: "exim", Recipients: indentedAddresses(lines, true)}, true
	}
	if !strings.Contains(text, "has not yet been delivered") {
		return nil, false
	}
	for _, start := range []string{"The address to which the message has not yet been delivered is:",
		"The addresses to which the message has not yet been delivered are:"} {
		if lines, ok := section(text, start, ends...); ok {
			return &Report{Format: "exim", Recipients: indentedAddresses(lines, false)}, true
		}
	}
	return nil, false
}

var qmailAddrRE = regexp.MustCompile(`(?m)^<([^<>\s]+@[^<>\s]+)>:\s*$`)

// parseQmail reads qmail-send's "Hi. This is the qmail-send program"
// bounce: "<address>:" lines, each followed by the reason, before
// "--- Below this line is a copy of the message.".
func parseQmail(text, subject string) (*Report, bool) {
	i := strings.Index(text, "This is the qmail-send program")
	if i < 0 {
		i = strings.Index(text, "I'm afraid I wasn't able to deliver your message")
	}
	if i < 0 {
		return nil, false
	}
	text = text[i:]
	if j := strings.Index(text, "--- Below this line"); j >= 0 {
		text = text[:j]
	}
	permanent := !strings.Contains(text, "This is a temporary error")
	r := &Report{Format: "qmail"}
	locs := qmailAddrRE.FindAllStringSubmatchIndex(text, MaxRecipients)
	for k, loc := range locs {
		end := len(text)
		if k+1 < len(locs) {
			end = locs[k+1][0]
		}
		a := cleanAddress(text[loc[2]:loc[3]])
		if a == "" {
			continue
		}
		d := text[loc[1]:end]
		rc := Recipient{Address: a, Action: "failed", Diagnostic: oneLine(d), Status: statusIn(d)}
		rc.Permanent = permanent && !strings.HasPrefix(rc.Status, "4.")
		if !rc.Permanent {
			rc.Action = "delayed"
		}
		r.Recipients = append(r.Recipients, rc)
	}
	return r, true
}

var gmailNotDeliveredRE = regexp.MustCompile(`(?:wasn't|was not|couldn't be|could not be) delivered to <?([^\s<>]+@[^\s<>,;]*[^\s<>,;.])`)

// parseGmail reads the plain bounces of Gmail and Google Workspace: the
// older "Delivery to the following recipient failed permanently:" and the
// newer "Your message wasn't delivered to ADDRESS because ...", with
// "has been delayed" and "temporary problem" for delays.
func parseGmail(text, subject string) (*Report, bool) {
	ends := []string{"----- Original message -----", "----- Message truncated -----", "Technical details", "The error that the other server returned"}
	tech := ""
	if _, after, ok := strings.Cut(text, "The error that the other server returned was:"); ok {
		tech = after
		if j := strings.Index(tech, "\n\n"); j >= 0 {
			tech = tech[:j]
		}
	}
	for _, v := range []struct {
		start     string
		permanent bool
	}{
		{"Delivery to the following recipient failed permanently:", true},
		{"Delivery to the following recipients failed permanently:", true},
		{"Delivery to the following recipient has been delayed:", false},
		{"Delivery to the following recipients have been delayed:", false},
	} {
		if lines, ok := section(text, v.start, ends...); ok {
			rs := indentedAddresses(lines, v.permanent)
			for i := range rs {
				if tech != "" && rs[i].Diagnostic == "" {
					rs[i].Diagnostic, rs[i].Status = oneLine(tech), statusIn(tech)
					rs[i].Permanent = v.permanent && !strings.HasPrefix(rs[i].Status, "4.")
				}
			}
			return &Report{Format: "gmail", Recipients: rs}, true
		}
	}
	m := gmailNotDeliveredRE.FindStringSubmatch(text)
	if m == nil {
		return nil, false
	}
	a := cleanAddress(strings.TrimRight(m[1], ".,"))
	if a == "" {
		return nil, false
	}
	temporary := strings.Contains(text, "temporary problem") || strings.Contains(text, "will retry")
	rc := Recipient{Address: a, Action: "failed", Permanent: !temporary, Diagnostic: oneLine(tech), Status: statusIn(tech)}
	if rc.Diagnostic == "" {
		line := m[0]
		rc.Diagnostic = oneLine(line)
	}
	if temporary {
		rc.Action = "delayed"
	}
	return &Report{Format: "gmail", Recipients: []Recipient{rc}}, true
}
