package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cloister/internal/site"
	"cloister/lists"
	"cloister/moderation"
	"cloister/queue"
)

// HeldListRequest asks for the held posts of a list, or of every list
// (site admins) when List is empty.
type HeldListRequest struct {
	List string `json:"list,omitempty"`
}

// HeldRef names a held post. List, when given, must be the post's list.
type HeldRef struct {
	List string `json:"list,omitempty"`
	ID   string `json:"id"`
}

// HeldRejectRequest rejects a held post; its sender gets Reason.
type HeldRejectRequest struct {
	List   string `json:"list,omitempty"`
	ID     string `json:"id"`
	Reason string `json:"reason,omitempty"`
}

// HeldInfo is a held post's record.
type HeldInfo struct {
	ID     string `json:"id"`
	List   string `json:"list"`
	Sender string `json:"sender,omitempty"`
	// Subject is empty for a post that arrived encrypted.
	Subject  string    `json:"subject,omitempty"`
	Reason   string    `json:"reason"`
	Rules    []string  `json:"rules,omitempty"`
	Received time.Time `json:"received"`
	Expires  time.Time `json:"expires"`
}

// HeldPost is a held post as a moderator may see it: for a post that
// arrived encrypted only its address, date and message-id header fields,
// never its subject or body; for one that arrived in clear its header and
// its text.
type HeldPost struct {
	HeldInfo
	// Encrypted tells that the post arrived encrypted.
	Encrypted bool `json:"encrypted"`
	// Decision, RuleHits and RuleMisses say why the post was held.
	Decision   string   `json:"decision,omitempty"`
	RuleHits   []string `json:"rule_hits,omitempty"`
	RuleMisses []string `json:"rule_misses,omitempty"`
	// Encryption, Verdict and Auth are what the incoming runner found.
	Encryption string `json:"encryption,omitempty"`
	Verdict    string `json:"verdict,omitempty"`
	Auth       string `json:"auth,omitempty"`
	// Headers are the header fields shown.
	Headers string `json:"headers"`
	// Text is the post's text (posts that arrived in clear only).
	Text string `json:"text,omitempty"`
	// File is the queue entry holding the post, relative to the state
	// directory; shown to the site's admins only.
	File string `json:"file,omitempty"`
}

var (
	opHeldList    = Op{"held.list", ClassModerate, OpModerate}
	opHeldShow    = Op{"held.show", ClassModerate, OpModerate}
	opHeldApprove = Op{"held.approve", ClassModerate, OpModerate}
	opHeldReject  = Op{"held.reject", ClassModerate, OpModerate}
	opHeldDiscard = Op{"held.discard", ClassModerate, OpModerate}
	opHeldCopy    = Op{"held.copy", ClassModerate, OpModerate}
)

// MaxHeldText bounds the text of a held post shown to a moderator.
const MaxHeldText = 256 << 10

func heldInfo(h *lists.Held) HeldInfo {
	return HeldInfo{ID: h.ID, List: h.List, Sender: h.Sender, Subject: h.Subject, Reason: h.Reason,
		Rules: h.Rules, Received: h.Received, Expires: h.Expires}
}

// HeldList returns the held posts of a list, or of every list for the
// site's admins.
func (s *Service) HeldList(ctx context.Context, a Actor, req HeldListRequest) ([]HeldInfo, error) {
	var held []*lists.Held
	if req.List == "" {
		if !a.isSiteAdmin() {
			return nil, errorf(CodeForbidden, "only the site's admins may list the held posts of every list; name a list")
		}
		err := s.site.Lists.View(func(tx *lists.Tx) error {
			all, err := tx.Lists()
			if err != nil {
				return err
			}
			for _, l := range all {
				h, err := tx.HeldFor(l.Address)
				if err != nil {
					return err
				}
				held = append(held, h...)
			}
			return nil
		})
		if err != nil {
			return nil, internal(err, "read the held posts")
		}
	} else {
		l, err := s.loadList(req.List)
		if err != nil {
			return nil, err
		}
		if err := s.authorize(a, opHeldList, l); err != nil {
			return nil, err
		}
		err = s.site.Lists.View(func(tx *lists.Tx) error {
			var err error
			held, err = tx.HeldFor(l.Address)
			return err
		})
		if err != nil {
			return nil, internal(err, "read the held posts")
		}
	}
	out := make([]HeldInfo, len(held))
	for i, h := range held {
		out[i] = heldInfo(h)
	}
	return out, nil
}

// held reads a held post's record and authorizes op on its list. With
// ref.List, the actor is authorized on that list before anything is read,
// so that who may not moderate it learns nothing of its posts.
func (s *Service) held(a Actor, op Op, ref HeldRef) (*lists.Held, error) {
	var named *lists.List
	if ref.List != "" {
		l, err := s.loadList(ref.List)
		if err != nil {
			return nil, err
		}
		if err := s.authorize(a, op, l); err != nil {
			return nil, err
		}
		named = l
	}
	if strings.TrimSpace(ref.ID) == "" {
		return nil, errorf(CodeInvalid, "no held post given")
	}
	var h *lists.Held
	err := s.site.Lists.View(func(tx *lists.Tx) error {
		var err error
		h, err = tx.Held(strings.TrimSpace(ref.ID))
		return err
	})
	if errors.Is(err, lists.ErrNoHeld) {
		if named != nil {
			return nil, wrapf(err, CodeNotFound, "no held post %s on %s", ref.ID, named.Address)
		}
		return nil, wrapf(err, CodeNotFound, "no held post %s", ref.ID)
	}
	if err != nil {
		return nil, internal(err, "read the held post")
	}
	if named != nil {
		if !strings.EqualFold(named.Address, h.List) {
			// Another list's post is as unknown as a missing one.
			return nil, errorf(CodeNotFound, "no held post %s on %s", ref.ID, named.Address)
		}
		return h, nil
	}
	l, err := s.loadList(h.List)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(a, op, l); err != nil {
		return nil, err
	}
	return h, nil
}

// HeldShow returns a held post as a moderator may see it: for a post that
// arrived encrypted only its address, date and message-id fields; for one
// that arrived in clear its header and text.
func (s *Service) HeldShow(ctx context.Context, a Actor, req HeldRef) (HeldPost, error) {
	h, err := s.held(a, opHeldShow, req)
	if err != nil {
		return HeldPost{}, err
	}
	p := HeldPost{HeldInfo: heldInfo(h)}
	if a.isSiteAdmin() {
		p.File = h.File
	}
	m, headers, err := moderation.HeldHeaders(s.site, h)
	if m != nil {
		p.Decision, p.RuleHits, p.RuleMisses = m.Decision, m.RuleHits, m.RuleMisses
		p.Encryption, p.Verdict, p.Auth = m.Encryption, m.Verdict, m.Auth
		p.Encrypted = m.ArrivedEncrypted() || m.Confidential()
	}
	if err != nil {
		return p, internal(err, "read the held post")
	}
	p.Headers = headers
	if m != nil && !p.Encrypted && m.Sealed == nil {
		text, err := heldText(s.site, h)
		if err != nil {
			s.site.Log.Warn("held post text not read", "held_id", h.ID, "err", err)
		}
		p.Text = text
	}
	return p, nil
}

// heldText returns the first text/plain part of a held post that arrived
// in clear, bounded.
func heldText(st *site.Site, h *lists.Held) (string, error) {
	name := strings.TrimSuffix(filepath.Base(h.File), ".msg")
	data, err := os.ReadFile(filepath.Join(st.Queue(queue.Held).Dir, name+".msg"))
	if err != nil {
		return "", err
	}
	line, b, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return "", errors.New("no metadata line")
	}
	m := new(queue.Meta)
	if err := json.Unmarshal(line, m); err != nil {
		return "", err
	}
	if m.ArrivedEncrypted() || m.Confidential() || m.Sealed != nil {
		return "", nil
	}
	t, err := textPart(b)
	if err != nil {
		return "", err
	}
	return strings.ToValidUTF8(string(t), "\uFFFD"), nil
}

// decide authorizes op on a held post, applies the decision and records it.
func (s *Service) decide(a Actor, op Op, ref HeldRef, apply func(h *lists.Held, by string) error) (err error) {
	var list string
	defer func() { s.audit(a, op, list, ref.ID, err) }()
	list = s.listAddress(ref.List)
	h, err := s.held(a, op, ref)
	if err != nil {
		return err
	}
	list = h.List
	if err := apply(h, a.who()); err != nil {
		if errors.Is(err, lists.ErrNoHeld) {
			return wrapf(err, CodeNotFound, "no held post %s (decided already?)", ref.ID)
		}
		return internal(err, "decide on the held post")
	}
	// The moderation code changed the queues and the store; the record of
	// the decision follows it.
	err = s.site.Lists.Update(func(tx *lists.Tx) error { return s.auditTx(tx, a, op, h.List, h.ID, nil) })
	if err != nil {
		s.site.Log.Error("audit entry not written", "op", op.Name, "held_id", h.ID, "err", err)
	}
	return nil
}

// HeldApprove sends a held post on to the list.
func (s *Service) HeldApprove(ctx context.Context, a Actor, req HeldRef) error {
	return s.decide(a, opHeldApprove, req, func(h *lists.Held, by string) error {
		return moderation.Approve(s.site, h.ID, by)
	})
}

// HeldReject drops a held post; its sender gets a notice with the reason.
func (s *Service) HeldReject(ctx context.Context, a Actor, req HeldRejectRequest) error {
	return s.decide(a, opHeldReject, HeldRef{List: req.List, ID: req.ID}, func(h *lists.Held, by string) error {
		return moderation.Reject(s.site, h.ID, req.Reason, by)
	})
}

// HeldDiscard drops a held post without telling anyone.
func (s *Service) HeldDiscard(ctx context.Context, a Actor, req HeldRef) error {
	return s.decide(a, opHeldDiscard, req, func(h *lists.Held, by string) error {
		return moderation.Discard(s.site, h.ID, by)
	})
}

// HeldSendToMe mails a held post to the actor (a moderator or owner),
// encrypted to their key; the post stays held.
func (s *Service) HeldSendToMe(ctx context.Context, a Actor, req HeldRef) (err error) {
	list := s.listAddress(req.List)
	defer func() { s.audit(a, opHeldCopy, list, req.ID, err) }()
	if a.Address == "" {
		return errorf(CodeInvalid, "the copy goes to the actor's own address, and this actor has none")
	}
	h, err := s.held(a, opHeldCopy, req)
	if err != nil {
		return err
	}
	list = h.List
	if err := moderation.SendHeldCopy(s.site, h.ID, a.Address); err != nil {
		if errors.Is(err, moderation.ErrNoKeyForCopy) {
			return wrapf(err, CodeConflict, "%s has no key or certificate on file that the list can encrypt to; the copy is sent only encrypted", a.Address)
		}
		return internal(err, "send the copy")
	}
	return s.site.Lists.Update(func(tx *lists.Tx) error { return s.auditTx(tx, a, opHeldCopy, h.List, h.ID, nil) })
}
