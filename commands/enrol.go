package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"cloister/internal/listaddr"
	"cloister/internal/site"
	"cloister/lists"
	"cloister/mailtext"
	"cloister/queue"
	"cloister/rules"
	"cloister/service"
)

// Key enrolment: who may bind a first key or certificate to an address (the
// key_enrolment setting). The holder's proof (the challenge encrypted to
// the key came back signed with it) shows only that whoever answered holds
// the key and reads the mailbox, which a network attacker on the member's
// mail path also does. Under owner the proven key then waits, as a key
// request in the lists store, for an owner's signed "key approve ID" (or
// cloister key approve); under vouched it waits for an owner or for a
// member's signed "key sign ADDRESS FINGERPRINT". Every bind, change and
// revoke is announced to the address and to the owners, so a takeover is
// never silent.

// enrolmentMode returns the enrolment mode that applies to binding a key to
// address through c.List: the strictest of c.List's and those of every list
// the address holds a role on, since a key is bound for the whole site.
func enrolmentMode(c *Context, address string) (string, error) {
	return EnrolmentMode(c.Site, c.List, address)
}

// EnrolmentMode returns the key_enrolment mode (proof, owner or vouched)
// that applies to binding a key or certificate to address through list:
// the strictest of list's and of every list the address holds a role on.
// The incoming runner captures certificates from S/MIME signatures only
// where it is proof.
func EnrolmentMode(s *site.Site, list *lists.List, address string) (string, error) {
	mode := list.Settings.EnrolmentMode()
	err := s.Lists.View(func(tx *lists.Tx) error {
		addrs, err := tx.ListsOf(address)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			l, err := tx.List(a)
			if err != nil {
				continue
			}
			mode = lists.StricterEnrolment(mode, l.Settings.EnrolmentMode())
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("enrolment mode for %s: %w", address, err)
	}
	return mode, nil
}

// enrol binds the proven key k to address under the proof mode, or records
// it as a key request for the owners (and, under vouched, the members) to
// decide. via says how it was asked for ("key set", "subscribe").
func (c *Context) enrol(address string, k *offeredKey, via rules.Reason) Result {
	mode, err := enrolmentMode(c, address)
	if err != nil {
		return failed(err)
	}
	if mode == lists.EnrolProof {
		fpr, err := c.bindOffered(address, k, service.GroundsEnrolled)
		if err != nil {
			return refused("it was not accepted: %v", err)
		}
		c.announceKey(address, rules.Reasonf("%s was bound to %s (%s, proven by a signed answer to the challenge encrypted to it).", k.reason(), address, via))
		if k.cert != nil {
			return done("the certificate %s is registered for %s", fpr, address)
		}
		return done("the key %s is registered for %s", fpr, address)
	}
	r, err := c.service().RequestKey(context.Background(), c.actor(), service.KeyRequestPut{
		List: c.List.Address, Address: address, Key: k.Text, Fingerprint: k.fingerprint(), Mode: mode, Via: via.String(), ViaFormat: viaFormat(via)})
	if err != nil {
		return serviceResult(err)
	}
	owners, err := c.ownersOf(c.List.Address)
	if err != nil {
		return failed(err)
	}
	request := listaddr.Address(c.List.Address, queue.SubRequest)
	subject, body := c.render("key_request", map[string]any{
		"ID": r.ID, "Address": address, "Key": k.describeIn(c), "Via": c.says(via), "Mode": string(mode),
		"List": c.List.Address, "RequestAddress": request, "Expires": r.Expires.UTC().Format(time.RFC1123Z),
		"Vouched": mode == lists.EnrolVouched, "Fingerprint": k.fingerprint()})
	for _, o := range owners {
		c.send(&message{List: c.List.Address, From: listaddr.Address(c.List.Address, queue.SubOwner), To: o,
			Subject: subject, Body: body}, "notice")
	}
	who := "the list owners"
	if mode == lists.EnrolVouched {
		who = "the list owners, or a member's signed key sign " + address + " " + k.fingerprint()
	}
	return pending("%s is proven, and waits for %s before it is bound to %s (key request %s)", k.describe(), who, address, r.ID)
}

// ownersOf returns the owners of a list, or the listmasters when it has
// none.
func (c *Context) ownersOf(list string) ([]string, error) {
	var owners []string
	err := c.Site.Lists.View(func(tx *lists.Tx) error {
		return tx.ForEachMember(list, func(m *lists.Member) error {
			if m.IsOwner() {
				owners = append(owners, m.Address)
			}
			return nil
		})
	})
	if len(owners) == 0 {
		owners = append(owners, c.Site.Config.Listmasters...)
	}
	return owners, err
}

// announceKey tells the address and the owners of c.List and of every list
// the address is on that its key changed (event says how, in a sentence).
// The notice to the address is signed by the list and never encrypted: its
// holder must be able to read it even when the key just bound is not theirs.
func (c *Context) announceKey(address string, event rules.Reason) {
	msgs, err := keyAnnouncements(c.Site, c.List, address, event, c.Sender)
	if err != nil {
		c.Site.Log.Error("key announcement", "list", c.List.Address, "address", address, "err", err)
	}
	for _, m := range msgs {
		c.send(m, "notice")
	}
}

// keyAnnouncements writes the notices of a key event from home's owner
// address: one to the address, one to each owner of home and of the lists
// the address is on. by is who asked for the change.
func keyAnnouncements(s *site.Site, home *lists.List, address string, event rules.Reason, by any) ([]*message, error) {
	var owners []string
	err := s.Lists.View(func(tx *lists.Tx) error {
		addrs, err := tx.ListsOf(address)
		if err != nil {
			return err
		}
		if !slices.Contains(addrs, home.Address) {
			addrs = append([]string{home.Address}, addrs...)
		}
		for _, a := range addrs {
			err := tx.ForEachMember(a, func(m *lists.Member) error {
				if m.IsOwner() && !slices.Contains(owners, m.Address) && !sameAddress(m.Address, address) {
					owners = append(owners, m.Address)
				}
				return nil
			})
			if err != nil && !errors.Is(err, lists.ErrNoList) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("owners to tell of a key change of %s: %w", address, err)
	}
	from := listaddr.Address(home.Address, queue.SubOwner)
	cat, err := mailtext.LoadCatalog(mailtext.Dirs(s.Config.StateDir, home.Address), home.Settings.Language)
	if err != nil {
		slog.Warn("message catalogue broken; key notice in English", "list", home.Address, "err", err)
		cat = nil
	}
	data := map[string]any{"Address": address, "List": home.Address, "Event": event.Render(cat), "By": byIn(cat, by), "OwnerAddress": from}
	subject, body := renderFor(s, home, "key_changed", data)
	member := &message{List: home.Address, From: from, To: address, clear: true, Subject: subject, Body: body}
	out := []*message{member}
	subject, body = renderFor(s, home, "key_changed_owner", data)
	for _, o := range owners {
		out = append(out, &message{List: home.Address, From: from, To: o, Subject: subject, Body: body})
	}
	return out, nil
}

// byIn renders who asked for a key change: a name or an address as it is,
// a Reason ("operator") in the catalogue's language.
func byIn(cat *mailtext.Catalog, by any) string {
	switch b := by.(type) {
	case rules.Reason:
		return b.Render(cat)
	case string:
		return b
	case nil:
		return ""
	}
	return fmt.Sprint(by)
}

// KeyAnnouncements renders, signed by the list, the notices of a key event
// made on the server (cloister key add, key revoke, member add --key, key
// approve): to the address and to the owners of the lists it is on. It
// returns nothing when the address is on no list. The caller queues them
// for the outgoing runner.
func KeyAnnouncements(s *site.Site, address string, event rules.Reason, by any, now time.Time) ([]Outgoing, error) {
	address = strings.ToLower(strings.TrimSpace(address))
	var home *lists.List
	err := s.Lists.View(func(tx *lists.Tx) error {
		addrs, err := tx.ListsOf(address)
		if err != nil || len(addrs) == 0 {
			return err
		}
		home, err = tx.List(addrs[0])
		return err
	})
	if err != nil || home == nil {
		return nil, err
	}
	ms, err := keyAnnouncements(s, home, address, event, by)
	if err != nil {
		return nil, err
	}
	return renderNotices(s, home, ms, now)
}

// renderNotices signs (and, where a key is on file and the message allows
// it, encrypts) messages with the list's keys.
func renderNotices(s *site.Site, l *lists.List, ms []*message, now time.Time) ([]Outgoing, error) {
	keys, err := loadListKeys(s, l.Address)
	if err != nil {
		return nil, err
	}
	var out []Outgoing
	for _, m := range ms {
		d, _, err := protect(s, keys, m, now, false)
		if err != nil {
			return nil, err
		}
		out = append(out, Outgoing{To: m.To, Kind: "notice", Data: d, List: l.Address})
	}
	return out, nil
}

// ownerSigned reports whether the command mail may give an owner command
// about keys: the admin scenario allows it and the mail is signed (never
// by unsigned mail, whatever the site's admin scenario allows; security
// invariant 3).
func ownerSigned(c *Context) (Result, bool) {
	if c.KeyStore == nil {
		return refused("keys cannot be set by mail on this server"), false
	}
	d, err := c.Authorize(OpAdmin)
	if err != nil {
		return failed(err), false
	}
	if d.Action != rules.ScenarioDoIt {
		return refusal(d), false
	}
	if c.Method != rules.MethodPGP && c.Method != rules.MethodSMIME {
		return refused("keys are set only by a command mail signed with your own OpenPGP key or S/MIME certificate"), false
	}
	return Result{}, true
}
