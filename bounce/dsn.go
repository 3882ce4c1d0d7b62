package bounce

import (
	"bufio"
	"bytes"
	"net/textproto"
	"strings"

	"cloister/mailmsg/rawmime"
)

// parseDSN finds a message/delivery-status part (RFC 3464; or
// message/global-delivery-status, RFC 6533) and reads its per-recipient
// blocks.
func parseDSN(msg []byte) (*Report, bool) {
	top, err := rawmime.Parse(msg)
	if err != nil {
		return nil, false
	}
	var status []byte
	rawmime.Walk(top, maxDepth, maxParts, func(_ []int, e *rawmime.Entity) error {
		mt, _, err := e.MediaType()
		if err != nil {
			return nil
		}
		switch mt {
		case "message/delivery-status", "message/global-delivery-status":
			if status == nil {
				status = decodeBody(e)
			}
			return rawmime.SkipChildren
		}
		return nil
	})
	if status == nil {
		return nil, false
	}
	blocks := fieldBlocks(status)
	if len(blocks) < 2 {
		return nil, false
	}
	r := &Report{Format: "dsn"}
	for _, h := range blocks[1:] { // the first block is per message
		addr := cleanAddress(h.Get("Final-Recipient"))
		if addr == "" {
			addr = cleanAddress(h.Get("Original-Recipient"))
		}
		if addr == "" {
			continue
		}
		rc := Recipient{
			Address:    addr,
			Action:     strings.ToLower(strings.TrimSpace(h.Get("Action"))),
			Status:     statusIn(h.Get("Status")),
			Diagnostic: oneLine(diagnostic(h.Get("Diagnostic-Code"))),
		}
		if rc.Status == "" {
			rc.Status = statusIn(rc.Diagnostic)
		}
		switch {
		case rc.Action == "failed":
			rc.Permanent = true
		case rc.Action == "" && strings.HasPrefix(rc.Status, "5."):
			rc.Action, rc.Permanent = "failed", true
		case rc.Action == "" && strings.HasPrefix(rc.Status, "4."):
			rc.Action = "delayed"
		}
		r.Recipients = append(r.Recipients, rc)
		if len(r.Recipients) == MaxRecipients {
			break
		}
	}
	if len(r.Recipients) == 0 {
		return nil, false
	}
	return r, true
}

// diagnostic drops the type of a Diagnostic-Code ("smtp; 550 ..." gives
// "550 ...").
func diagnostic(v string) string {
	if t, rest, ok := strings.Cut(v, ";"); ok && len(t) < 20 && !strings.ContainsAny(t, " 0123456789") {
		return rest
	}
	return v
}

// fieldBlocks splits a delivery-status body into its groups of header
// fields, separated by blank lines.
func fieldBlocks(b []byte) []textproto.MIMEHeader {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	var out []textproto.MIMEHeader
	for _, chunk := range bytes.Split(b, []byte("\n\n")) {
		chunk = bytes.Trim(chunk, "\n")
		if len(chunk) == 0 {
			continue
		}
		if len(out) > MaxRecipients+1 {
			break
		}
		rd := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(chunk, '\n', '\n'))))
		h, err := rd.ReadMIMEHeader()
		if err != nil && len(h) == 0 {
			continue
		}
		out = append(out, h)
	}
	return out
}
