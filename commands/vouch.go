package commands

import (
	"context"
	"errors"
	"strings"

	"cloister/lists"
	"cloister/rules"
	"cloister/service"
)

// Vouch binds a key to another member's address on the word of a member
// who checked it with its holder, on lists whose key_enrolment is vouched:
// "key sign ADDRESS" (or "vouch ADDRESS") with the member's public key
// attached, or "key sign ADDRESS FINGERPRINT" for the key whose holder's
// proof waits as a key request (or, with the key attached, to say which
// fingerprint was checked). The mail must be signed with the voucher's own
// key on file, and the voucher must be a member of the list. An address
// that has a key keeps it: its holder uses key change, or an owner key set.
type Vouch struct{}

// Name implements Command.
func (Vouch) Name() string { return "vouch" }

// Aliases implements Command.
func (Vouch) Aliases() []string { return nil }

// Args implements Command.
func (Vouch) Args() string { return "ADDRESS [FINGERPRINT]" }

// Help implements Command.
func (Vouch) Help() string {
	return "the same as key sign ADDRESS [FINGERPRINT]: on lists with key_enrolment vouched, bind the key you checked with a member (attached, or waiting with that fingerprint), signed with your own key"
}

// Operation implements Command.
func (Vouch) Operation() string { return "key" }

// Run implements Command.
func (Vouch) Run(c *Context, args []string) Result {
	if len(args) < 1 || len(args) > 2 {
		return refused("usage: vouch ADDRESS [FINGERPRINT]")
	}
	return vouch(c, args)
}

// vouch carries out key sign ADDRESS [FINGERPRINT].
func vouch(c *Context, args []string) Result {
	if len(args) > 2 {
		return refused("usage: key sign ADDRESS [FINGERPRINT]")
	}
	voucherFpr, res, ok := provenByKey(c)
	if !ok {
		return res
	}
	addr, err := lists.CanonicalAddress(strings.Trim(args[0], "<>"))
	if err != nil {
		return refused("%q is not an address", args[0])
	}
	want := ""
	if len(args) == 2 {
		want = strings.ToUpper(strings.TrimPrefix(strings.ReplaceAll(args[1], ":", ""), "0x"))
		if len(want) < 40 {
			return refused("give the whole fingerprint (40 or 64 hex digits), as gpg --fingerprint shows it")
		}
	}
	if sameAddress(addr, c.Sender) {
		return refused("a member cannot vouch for their own key")
	}
	mode, err := enrolmentMode(c, addr)
	if err != nil {
		return failed(err)
	}
	if mode != lists.EnrolVouched {
		return refused("keys on this list are bound by %s, not by a member's vouching", map[string]string{
			lists.EnrolProof: "their holder's answer to a challenge (key set)",
			lists.EnrolOwner: "the list owners",
		}[mode])
	}
	if !isMember(c, c.Sender) {
		return refused("only members of %s may vouch for a key", c.List.Address)
	}
	if !isMember(c, addr) {
		return refused("%s is not subscribed to %s", addr, c.List.Address)
	}
	cur, err := c.KeyStore.SubscriberPGP(addr)
	if err != nil {
		return failed(err)
	}
	if cur != "" {
		return refused("a key is on file for %s; its holder uses key change, signed with it, or the owners key set", addr)
	}
	var k *offeredKey
	via := rules.Reasonf("vouched by %s with the key attached", c.Sender)
	if len(c.Attachments) > 0 {
		oc := *c
		oc.Sender = addr
		key, ent, res := attachedKey(&oc)
		if key == nil {
			return res
		}
		if err := pgpEncryptable(ent, c.Now); err != nil {
			return refused("the attached key cannot be encrypted to (expired, revoked, or no encryption subkey)")
		}
		k = &offeredKey{Text: string(key), pgp: ent}
		if want != "" && !strings.EqualFold(k.fingerprint(), want) {
			return refused("the attached key is %s, not %s", k.fingerprint(), want)
		}
	} else {
		if want == "" {
			return refused("attach %s's public key, or name the fingerprint of the key waiting for %s", addr, addr)
		}
		r, err := c.service().TakeKeyRequest(context.Background(), c.actor(), service.KeyRequestTake{
			List: c.List.Address, Address: addr, Fingerprint: want, Grounds: service.GroundsVouch})
		if errors.Is(err, lists.ErrNoKeyRequest) {
			return refused("no key %s waits for %s on %s; attach the key instead", want, addr, c.List.Address)
		}
		if err != nil {
			return serviceResult(err)
		}
		if k, err = parseOffered(r.Key); err != nil {
			return failed(err)
		}
		via = rules.Reasonf("vouched by %s for key request %s, whose holder answered the challenge", c.Sender, r.ID)
	}
	fpr, err := c.bindOffered(addr, k, service.GroundsVouch)
	if err != nil {
		return refused("the key was not accepted: %v", err)
	}
	c.announceKey(addr, rules.Reasonf("%s was bound to %s, %s (the voucher's key is %s).", k.reason(), addr, via, voucherFpr))
	return done("%s is now bound to %s on your word", fpr, addr)
}
