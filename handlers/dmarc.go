package handlers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"
	"time"

	"cloister/mailmsg"
)

// DMARCResolver looks up DNS TXT records. *net.Resolver satisfies it; tests
// use a fake, and DMARCCache wraps one with a small TTL cache.
type DMARCResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// DefaultDMARCTimeout bounds one policy lookup (both queries) when the
// Context does not say otherwise.
const DefaultDMARCTimeout = 5 * time.Second

// DMARC mitigates the DMARC policy of the author's domain (setting
// dmarc_mitigation). When the domain of the From address publishes
// p=reject or p=quarantine (looked up at _dmarc.DOMAIN, then at the
// organisational domain, taken as the last two labels, whose sp= applies),
// a list that re-sends the post would fail DMARC at the receivers. With
// munge_from the From becomes "Name via List" <list@domain> and the author
// goes into Reply-To (or into Cc when the post already has a Reply-To, such
// as one set by reply_to); with wrap_message the post is attached whole, as
// message/rfc822, to a message from the list. A lookup that fails or times
// out is treated as a strict policy (mitigating costs a rewritten From;
// not mitigating can cost every subscriber's copy). A domain without a
// record is left alone, and so is a post already from the list's domain.
type DMARC struct{}

// Name implements Handler.
func (DMARC) Name() string { return "dmarc" }

// Description implements Handler.
func (DMARC) Description() string {
	return "rewrite From (or wrap the post) when the author's domain publishes a strict DMARC policy (setting dmarc_mitigation)"
}

// Process implements Handler.
func (h DMARC) Process(ctx *Context) error {
	mode := ctx.settings().DMARCMitigation
	if mode == "" || mode == "none" {
		return nil
	}
	if mode != "munge_from" && mode != "wrap_message" {
		return fmt.Errorf("dmarc: unknown dmarc_mitigation %q", mode)
	}
	if ctx.Resolver == nil {
		return nil
	}
	vals := ctx.Msg.Values("From")
	if len(vals) != 1 {
		return nil
	}
	addrs, err := mailmsg.ParseAddressList(vals[0])
	if err != nil || len(addrs) != 1 {
		return nil
	}
	author := addrs[0]
	at := strings.LastIndexByte(author.Address, '@')
	if at < 0 {
		return nil
	}
	domain := strings.ToLower(author.Address[at+1:])
	if _, listDomain := ctx.listParts(); domain == strings.ToLower(listDomain) {
		return nil
	}
	timeout := ctx.DMARCTimeout
	if timeout <= 0 {
		timeout = DefaultDMARCTimeout
	}
	lctx, cancel := context.WithTimeout(ctx.ctx(), timeout)
	defer cancel()
	policy, err := LookupDMARC(lctx, ctx.Resolver, domain)
	// An unknown policy is mitigated as a strict one would be.
	if err == nil && policy != "reject" && policy != "quarantine" {
		return nil
	}
	if mode == "wrap_message" {
		return wrapMessage(ctx, author, vals[0])
	}
	mungeFrom(ctx, author, vals[0])
	return nil
}

// mungedFrom returns `"Name via List" <list@domain>`.
func mungedFrom(ctx *Context, author *mail.Address) string {
	name := strings.TrimSpace(author.Name)
	if name == "" {
		name = author.Address
	}
	return mailmsg.FormatAddress(&mail.Address{Name: name + " via " + listDisplayName(ctx), Address: ctx.listAddress()})
}

// mungeFrom rewrites From and records the author in Reply-To or Cc.
func mungeFrom(ctx *Context, author *mail.Address, original string) {
	m := ctx.Msg
	m.Set("From", mungedFrom(ctx, author))
	if !m.Has("Reply-To") {
		m.Set("Reply-To", original)
		return
	}
	for _, a := range m.Addresses("Reply-To", "To", "Cc") {
		if strings.EqualFold(a, author.Address) {
			return
		}
	}
	if cc := m.Get("Cc"); cc != "" {
		m.Set("Cc", cc+", "+original)
	} else {
		m.Set("Cc", original)
	}
}

// wrapFields are the header fields the wrapping message copies from the post.
var wrapFields = []string{"To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References"}

// wrapMessage replaces the post by a message from the list that carries the
// post, unchanged, as a message/rfc822 body.
func wrapMessage(ctx *Context, author *mail.Address, original string) error {
	m := ctx.Msg
	inner := m.Bytes()
	out := &mailmsg.Message{NL: m.NL}
	out.Add("From", mungedFrom(ctx, author))
	rt := m.Get("Reply-To")
	if rt != "" {
		out.Add("Reply-To", rt)
	} else {
		out.Add("Reply-To", original)
	}
	for _, name := range wrapFields {
		for _, f := range m.Fields {
			if strings.EqualFold(f.Name, name) {
				out.Fields = append(out.Fields, f)
			}
		}
	}
	if rt != "" {
		named := false
		for _, a := range m.Addresses("Reply-To", "To", "Cc") {
			named = named || strings.EqualFold(a, author.Address)
		}
		if !named {
			if cc := out.Get("Cc"); cc != "" {
				out.Set("Cc", cc+", "+original)
			} else {
				out.Add("Cc", original)
			}
		}
	}
	out.Add("MIME-Version", "1.0")
	out.Add("Content-Type", "message/rfc822")
	out.Add("Content-Disposition", "inline")
	out.Body = inner
	*m = *out
	return nil
}

// errNoRecord means the domain publishes no DMARC record.
var errNoRecord = errors.New("no DMARC record")

// LookupDMARC returns the DMARC policy (none, quarantine, reject) that
// applies to mail from domain, or "" when neither the domain nor its
// organisational domain (the last two labels) publishes a record. Lookup
// failures other than "no such name" are returned as errors.
func LookupDMARC(ctx context.Context, r DMARCResolver, domain string) (string, error) {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	p, _, err := queryDMARC(ctx, r, domain)
	if err == nil {
		return p, nil
	}
	if !errors.Is(err, errNoRecord) {
		return "", err
	}
	labels := strings.Split(domain, ".")
	if len(labels) <= 2 {
		return "", nil
	}
	org := strings.Join(labels[len(labels)-2:], ".")
	p, sp, err := queryDMARC(ctx, r, org)
	if errors.Is(err, errNoRecord) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if sp != "" {
		return sp, nil
	}
	return p, nil
}

// queryDMARC looks up _dmarc.domain and returns its p= and sp= policies.
// The lookup runs in its own goroutine so that a resolver that ignores
// ctx still cannot hold the handler past the deadline.
func queryDMARC(ctx context.Context, r DMARCResolver, domain string) (p, sp string, err error) {
	type answer struct {
		txt []string
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		txt, err := r.LookupTXT(ctx, "_dmarc."+domain)
		ch <- answer{txt, err}
	}()
	var a answer
	select {
	case a = <-ch:
	case <-ctx.Done():
		return "", "", fmt.Errorf("dmarc lookup for %s: %w", domain, ctx.Err())
	}
	if a.err != nil {
		var de *net.DNSError
		if errors.As(a.err, &de) && de.IsNotFound {
			return "", "", errNoRecord
		}
		return "", "", fmt.Errorf("dmarc lookup for %s: %w", domain, a.err)
	}
	var recs []string
	for _, t := range a.txt {
		if strings.HasPrefix(strings.TrimSpace(t), "v=DMARC1") {
			recs = append(recs, t)
		}
	}
	if len(recs) != 1 {
		// None, or several: RFC 7489 6.6.3 says no policy applies.
		return "", "", errNoRecord
	}
	for _, tag := range strings.Split(recs[0], ";") {
		k, v, ok := strings.Cut(tag, "=")
		if !ok {
			continue
		}
		v = strings.ToLower(strings.TrimSpace(v))
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "p":
			p = v
		case "sp":
			sp = v
		}
	}
	if p != "none" && p != "quarantine" && p != "reject" {
		// RFC 7489 6.6.3: an invalid p= is treated as none (when rua is
		// absent no report is possible anyway).
		p = "none"
	}
	if sp != "none" && sp != "quarantine" && sp != "reject" {
		sp = ""
	}
	return p, sp, nil
}
