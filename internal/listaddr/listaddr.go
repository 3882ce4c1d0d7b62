// Package listaddr maps a recipient address to a list and a subaddress
// (team-request@example.org is the request address of team@example.org) and
// reads lists.idx, the list index that deliver consults. It imports nothing
// heavy: deliver links it.
package listaddr

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Index is the set of list posting addresses.
type Index map[string]bool

// ReadIndex reads lists.idx: one lower-case list address per line.
func ReadIndex(path string) (Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read list index: %w", err)
	}
	defer f.Close()
	return ParseIndex(f)
}

// ParseIndex parses the lines of a list index; blank lines and # comments are skipped.
func ParseIndex(r io.Reader) (Index, error) {
	idx := Index{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		idx[strings.ToLower(l)] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read list index: %w", err)
	}
	return idx, nil
}

// Resolve maps a recipient to its list, subaddress and extension (what
// followed '+' in the local part). ok is false when no list matches.
func (idx Index) Resolve(rcpt string) (list, sub, ext string, ok bool) {
	rcpt = strings.ToLower(strings.TrimSpace(strings.Trim(rcpt, "<>")))
	at := strings.LastIndexByte(rcpt, '@')
	if at <= 0 {
		return "", "", "", false
	}
	local, domain := rcpt[:at], rcpt[at+1:]
	if idx[rcpt] {
		return rcpt, SubPost, "", true
	}
	if i := strings.IndexByte(local, '+'); i >= 0 {
		local, ext = local[:i], local[i+1:]
		if idx[local+"@"+domain] {
			return local + "@" + domain, SubPost, ext, true
		}
	}
	for _, s := range Suffixes {
		if base, found := strings.CutSuffix(local, s.Suffix); found && base != "" && idx[base+"@"+domain] {
			return base + "@" + domain, s.Sub, ext, true
		}
	}
	return "", "", "", false
}

// Address returns the address of a list's subaddress ("post" is the list itself).
func Address(list, sub string) string {
	at := strings.LastIndexByte(list, '@')
	if sub == SubPost || sub == "" || at < 0 {
		return list
	}
	for _, s := range Suffixes {
		if s.Sub == sub {
			return list[:at] + s.Suffix + list[at:]
		}
	}
	return list
}

// AddressExt returns the address of a list's subaddress with an extension
// after '+' (LIST-confirm+TOKEN@domain, LIST-bounces+TAG@domain): what
// Resolve returns as ext. With no extension it is Address.
func AddressExt(list, sub, ext string) string {
	a := Address(list, sub)
	at := strings.LastIndexByte(a, '@')
	if ext == "" || at < 0 {
		return a
	}
	return a[:at] + "+" + ext + a[at:]
}

// LocalPart returns the local part of an address.
func LocalPart(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return addr[:at]
	}
	return addr
}

// Domain returns the domain of an address.
func Domain(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return addr[at+1:]
	}
	return ""
}
