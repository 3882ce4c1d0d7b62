package service

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloister/lists"
	"cloister/rules"
)

// MemberInfo is one address on a list's roster.
type MemberInfo struct {
	Address string `json:"address"`
	Name    string `json:"name,omitempty"`
	// Roles are member, moderator, owner.
	Roles []string `json:"roles"`
	// Delivery is enabled, disabled or digest.
	Delivery   string    `json:"delivery"`
	Subscribed time.Time `json:"subscribed"`
	// Bounces is the member's bounce record (nil before the first).
	Bounces *lists.Bounces `json:"bounces,omitempty"`
}

// MemberRef names one member of a list.
type MemberRef struct {
	List    string `json:"list"`
	Address string `json:"address"`
}

// MemberListRequest asks for a list's roster, or the part of it matching.
type MemberListRequest struct {
	List string `json:"list"`
	// Query keeps members whose address or name contains it
	// (case-insensitive).
	Query string `json:"query,omitempty"`
	// Role keeps members holding it (member, moderator, owner).
	Role string `json:"role,omitempty"`
}

// MemberAddRequest adds an address to a list at once.
type MemberAddRequest struct {
	List    string `json:"list"`
	Address string `json:"address"`
	Name    string `json:"name,omitempty"`
	// Roles default to member; other roles are given by the site's admins
	// only.
	Roles []string `json:"roles,omitempty"`
	// Delivery is enabled (default), disabled or digest.
	Delivery string `json:"delivery,omitempty"`
	// Welcome sends the new member the list's welcome message.
	Welcome bool `json:"welcome,omitempty"`
}

// MemberRemoveRequest removes an address from a list.
type MemberRemoveRequest struct {
	List    string `json:"list"`
	Address string `json:"address"`
	// AllRoles removes the address with every role (site admins only);
	// otherwise it loses the member role and an owner or moderator keeps
	// the others.
	AllRoles bool `json:"all_roles,omitempty"`
}

// MemberSetRequest changes a member's record; nil fields stay as they are.
type MemberSetRequest struct {
	List    string `json:"list"`
	Address string `json:"address"`
	// Roles replace the member's roles (site admins only).
	Roles    *[]string `json:"roles,omitempty"`
	Delivery *string   `json:"delivery,omitempty"`
	Name     *string   `json:"name,omitempty"`
}

// MemberDeliveryRequest sets how a member receives posts: regular
// (enabled, on), digest, or nomail (disabled, off).
type MemberDeliveryRequest struct {
	List     string `json:"list"`
	Address  string `json:"address"`
	Delivery string `json:"delivery"`
}

// SubscribeRequest asks for an address to join a list through the list's
// workflow (subscribe scenario, subscribe_policy).
type SubscribeRequest struct {
	List string `json:"list"`
	// Address defaults to the actor's own.
	Address string `json:"address,omitempty"`
	Name    string `json:"name,omitempty"`
}

// MySubscriptionsRequest asks for the lists an address is on.
type MySubscriptionsRequest struct {
	// Address defaults to the actor's own; others' need a site admin.
	Address string `json:"address,omitempty"`
}

// Subscription is one list an address is on.
type Subscription struct {
	List        string   `json:"list"`
	Description string   `json:"description"`
	Roles       []string `json:"roles"`
	Delivery    string   `json:"delivery"`
}

// Workflows sends the mails of a list's workflows: the confirmation
// request to the address concerned, the approval request to the owners,
// the welcome. Package commands provides it (commands.Workflows): a token
// it mails runs the email command again, confirmed or approved, when it
// comes back, exactly as for a request made by mail.
type Workflows interface {
	// AskConfirm mails address a token that runs the email command cmd
	// with args again, as confirmed by address, when it comes back; what
	// says what is asked.
	AskConfirm(l *lists.List, a Actor, cmd string, args []string, address string, what rules.Reason) error
	// AskApproval mails the owners a token that runs cmd with args again,
	// approved.
	AskApproval(l *lists.List, a Actor, cmd string, args []string, what rules.Reason) error
	// Welcome mails a new member the list's welcome.
	Welcome(l *lists.List, address string) error
}

// WithWorkflows sets the workflows' mailer.
func WithWorkflows(w Workflows) Option { return func(s *Service) { s.workflows = w } }

// memberInfo converts a stored member.
func memberInfo(m *lists.Member) MemberInfo {
	rs := make([]string, len(m.Roles))
	for i, r := range m.Roles {
		rs[i] = string(r)
	}
	return MemberInfo{Address: m.Address, Name: m.Name, Roles: rs, Delivery: string(m.Delivery), Subscribed: m.Subscribed, Bounces: m.Bounces}
}

// ParseRoles reads roles: member, moderator, owner.
func ParseRoles(names []string) ([]lists.Role, error) {
	var out []lists.Role
	for _, n := range names {
		switch r := lists.Role(strings.ToLower(strings.TrimSpace(n))); r {
		case lists.RoleOwner, lists.RoleModerator, lists.RoleMember:
			out = append(out, r)
		default:
			return nil, errorf(CodeInvalid, "unknown role %q (owner, moderator, member)", n)
		}
	}
	return out, nil
}

// ParseDelivery reads a delivery mode: enabled (regular, on), disabled
// (nomail, off) or digest.
func ParseDelivery(v string) (lists.Delivery, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "enabled", "regular", "on", "yes":
		return lists.DeliveryEnabled, nil
	case "disabled", "nomail", "off", "no":
		return lists.DeliveryDisabled, nil
	case "digest":
		return lists.DeliveryDigest, nil
	}
	return "", errorf(CodeInvalid, "delivery %q: want regular, digest or nomail", v)
}

// canonical reads a member's address.
func canonical(addr string) (string, error) {
	c, err := lists.CanonicalAddress(strings.Trim(strings.TrimSpace(addr), "<>"))
	if err != nil {
		return "", wrapf(err, CodeInvalid, "%q is not an address this list can take", addr)
	}
	return c, nil
}

// MemberList returns a list's roster, or its members matching the request.
func (s *Service) MemberList(ctx context.Context, a Actor, req MemberListRequest) ([]MemberInfo, error) {
	l, err := s.loadList(req.List)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(a, opMemberList, l); err != nil {
		return nil, err
	}
	q := strings.ToLower(strings.TrimSpace(req.Query))
	out := []MemberInfo{}
	err = s.site.Lists.View(func(tx *lists.Tx) error {
		return tx.ForEachMember(l.Address, func(m *lists.Member) error {
			if q != "" && !strings.Contains(strings.ToLower(m.Address), q) && !strings.Contains(strings.ToLower(m.Name), q) {
				return nil
			}
			if req.Role != "" && !m.Has(lists.Role(strings.ToLower(req.Role))) {
				return nil
			}
			out = append(out, memberInfo(m))
			return nil
		})
	})
	if err != nil {
		return nil, storeError(err, "read the members")
	}
	return out, nil
}

// MemberAdd adds an address to a list at once (owners). An address on the
// list without the member role (an owner) gains the roles asked for; one
// already subscribed is a conflict.
func (s *Service) MemberAdd(ctx context.Context, a Actor, req MemberAddRequest) (info MemberInfo, err error) {
	addr := s.listAddress(req.List)
	defer func() { s.audit(a, opMemberAdd, addr, req.Address, err) }()
	l, err := s.loadList(req.List)
	if err != nil {
		return MemberInfo{}, err
	}
	if err := s.authorize(a, opMemberAdd, l); err != nil {
		return MemberInfo{}, err
	}
	target, err := canonical(req.Address)
	if err != nil {
		return MemberInfo{}, err
	}
	roles := []lists.Role{lists.RoleMember}
	if len(req.Roles) > 0 {
		if roles, err = ParseRoles(req.Roles); err != nil {
			return MemberInfo{}, err
		}
	}
	if !a.isSiteAdmin() && !slices.Equal(roles, []lists.Role{lists.RoleMember}) {
		return MemberInfo{}, errorf(CodeForbidden, "only the site's admins may give roles other than member")
	}
	delivery := lists.DeliveryEnabled
	if req.Delivery != "" {
		if delivery, err = ParseDelivery(req.Delivery); err != nil {
			return MemberInfo{}, err
		}
	}
	var m *lists.Member
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		var err error
		m, err = tx.Member(l.Address, target)
		switch {
		case errors.Is(err, lists.ErrNoMember):
			m = &lists.Member{Address: target, Name: req.Name, Roles: roles, Delivery: delivery}
			if err := tx.AddMember(l.Address, m); err != nil {
				return err
			}
		case err != nil:
			return err
		case m.IsSubscriber() || !slices.ContainsFunc(roles, func(r lists.Role) bool { return !m.Has(r) }):
			return lists.ErrMemberExists
		default:
			for _, r := range roles {
				m.AddRole(r)
			}
			if err := tx.PutMember(l.Address, m); err != nil {
				return err
			}
		}
		if m, err = tx.Member(l.Address, target); err != nil {
			return err
		}
		return s.auditTx(tx, a, opMemberAdd, l.Address, target, nil)
	})
	if errors.Is(err, lists.ErrMemberExists) {
		return MemberInfo{}, wrapf(err, CodeConflict, "%s is already subscribed", target)
	}
	if err != nil {
		return MemberInfo{}, storeError(err, "add the member")
	}
	if req.Welcome && s.workflows != nil && m.IsSubscriber() {
		if err := s.workflows.Welcome(l, target); err != nil {
			s.site.Log.Warn("welcome not sent", "list", l.Address, "err", err)
		}
	}
	return memberInfo(m), nil
}

// MemberRemove takes an address off a list at once (owners).
func (s *Service) MemberRemove(ctx context.Context, a Actor, req MemberRemoveRequest) (err error) {
	addr := s.listAddress(req.List)
	defer func() { s.audit(a, opMemberRemove, addr, req.Address, err) }()
	l, err := s.loadList(req.List)
	if err != nil {
		return err
	}
	if err := s.authorize(a, opMemberRemove, l); err != nil {
		return err
	}
	if req.AllRoles && !a.isSiteAdmin() {
		return errorf(CodeForbidden, "only the site's admins may remove owners and moderators")
	}
	return s.drop(a, opMemberRemove, l, req.Address, req.AllRoles)
}

// drop removes the member role (or every role) of an address, recording
// the change.
func (s *Service) drop(a Actor, op Op, l *lists.List, address string, all bool) error {
	target, err := canonical(address)
	if err != nil {
		return err
	}
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		m, err := tx.Member(l.Address, target)
		if err != nil {
			return err
		}
		if !all {
			m.RemoveRole(lists.RoleMember)
		}
		if all || len(m.Roles) == 0 {
			err = tx.RemoveMember(l.Address, target)
		} else {
			err = tx.PutMember(l.Address, m)
		}
		if err != nil {
			return err
		}
		return s.auditTx(tx, a, op, l.Address, target, nil)
	})
	if errors.Is(err, lists.ErrNoMember) {
		return wrapf(err, CodeNotFound, "%s is not on %s", target, l.Address)
	}
	return storeError(err, "remove the member")
}

// MemberSet changes a member's roles, delivery or name. Roles are changed
// by the site's admins only.
func (s *Service) MemberSet(ctx context.Context, a Actor, req MemberSetRequest) (info MemberInfo, err error) {
	addr := s.listAddress(req.List)
	defer func() { s.audit(a, opMemberSet, addr, req.Address, err) }()
	l, err := s.loadList(req.List)
	if err != nil {
		return MemberInfo{}, err
	}
	if err := s.authorize(a, opMemberSet, l); err != nil {
		return MemberInfo{}, err
	}
	var roles []lists.Role
	if req.Roles != nil {
		if !a.isSiteAdmin() {
			return MemberInfo{}, errorf(CodeForbidden, "only the site's admins may change roles")
		}
		if roles, err = ParseRoles(*req.Roles); err != nil {
			return MemberInfo{}, err
		}
	}
	var delivery lists.Delivery
	if req.Delivery != nil {
		if delivery, err = ParseDelivery(*req.Delivery); err != nil {
			return MemberInfo{}, err
		}
	}
	var m *lists.Member
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		var err error
		if m, err = tx.Member(l.Address, req.Address); err != nil {
			return err
		}
		if req.Roles != nil {
			m.Roles = roles
		}
		if req.Delivery != nil {
			m.Delivery = delivery
		}
		if req.Name != nil {
			m.Name = *req.Name
		}
		if err := tx.PutMember(l.Address, m); err != nil {
			return err
		}
		if m, err = tx.Member(l.Address, req.Address); err != nil {
			return err
		}
		return s.auditTx(tx, a, opMemberSet, l.Address, memberSetTarget(m, req), nil)
	})
	if err != nil {
		return MemberInfo{}, storeError(err, "change the member")
	}
	return memberInfo(m), nil
}

// MemberSetDelivery sets how a member receives posts. A person sets their
// own (unproven mail, smtp, is confirmed first by a token to the address,
// so a forged From cannot stop someone's mail); owners set anyone's.
func (s *Service) MemberSetDelivery(ctx context.Context, a Actor, req MemberDeliveryRequest) (info MemberInfo, err error) {
	addr := s.listAddress(req.List)
	defer func() { s.audit(a, opMemberDelivery, addr, req.Address, err) }()
	l, err := s.loadList(req.List)
	if err != nil {
		return MemberInfo{}, err
	}
	target := req.Address
	if target == "" {
		target = a.Address
	}
	if target, err = canonical(target); err != nil {
		return MemberInfo{}, err
	}
	want, err := ParseDelivery(req.Delivery)
	if err != nil {
		return MemberInfo{}, err
	}
	self := a.isPerson() && a.is(target)
	if !self {
		if err := s.authorize(a, opMemberDelivery, l); err != nil {
			return MemberInfo{}, err
		}
	}
	var m *lists.Member
	err = s.site.Lists.View(func(tx *lists.Tx) error {
		var err error
		m, err = tx.Member(l.Address, target)
		return err
	})
	if errors.Is(err, lists.ErrNoMember) || (err == nil && !m.IsSubscriber()) {
		return MemberInfo{}, errorf(CodeNotFound, "%s is not subscribed to %s", target, l.Address)
	}
	if err != nil {
		return MemberInfo{}, storeError(err, "read the member")
	}
	if self && a.Method == rules.MethodSMTP && !a.confirmed() {
		if s.workflows == nil {
			return MemberInfo{}, errorf(CodeUnavailable, "confirmations cannot be mailed from here")
		}
		word := map[lists.Delivery]string{lists.DeliveryEnabled: "on", lists.DeliveryDisabled: "off", lists.DeliveryDigest: "digest"}[want]
		if err := s.workflows.AskConfirm(l, a, "set", []string{"delivery", word}, target, rules.Reasonf("turn delivery of %s %s for %s", l.Address, word, target)); err != nil {
			return MemberInfo{}, asError(err, "ask for a confirmation")
		}
		return MemberInfo{}, errorf(CodePending, "a confirmation request was sent to %s; nothing happens until it is answered", target)
	}
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		var err error
		if m, err = tx.Member(l.Address, target); err != nil {
			return err
		}
		m.Delivery = want
		if err := tx.PutMember(l.Address, m); err != nil {
			return err
		}
		return s.auditTx(tx, a, opMemberDelivery, l.Address, target+" delivery="+string(want), nil)
	})
	if err != nil {
		return MemberInfo{}, storeError(err, "change the delivery")
	}
	return memberInfo(m), nil
}

// asError keeps an *Error as it is and makes any other error unavailable.
func asError(err error, what string) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return internal(err, what)
}

// MySubscriptions returns the lists an address is on, with its roles and
// delivery. A person asks for their own address (unproven mail only by
// mail, where the answer goes to the address); the site's admins for any.
func (s *Service) MySubscriptions(ctx context.Context, a Actor, req MySubscriptionsRequest) ([]Subscription, error) {
	target := req.Address
	if target == "" {
		target = a.Address
	}
	if target == "" {
		return nil, errorf(CodeInvalid, "no address given")
	}
	target, err := canonical(target)
	if err != nil {
		return nil, err
	}
	switch {
	case a.isSiteAdmin():
	case a.isPerson() && a.is(target):
		if a.Method == rules.MethodSMTP && a.Via != ViaMail {
			return nil, errorf(CodeUnauthenticated, "log in first")
		}
	case a.isPerson():
		return nil, errorf(CodeForbidden, "you may see only your own subscriptions")
	default:
		return nil, errorf(CodeForbidden, "only the site's admins may see an address's subscriptions")
	}
	out := []Subscription{}
	err = s.site.Lists.View(func(tx *lists.Tx) error {
		all, err := tx.Lists()
		if err != nil {
			return err
		}
		for _, l := range all {
			m, err := tx.Member(l.Address, target)
			if errors.Is(err, lists.ErrNoMember) {
				continue
			}
			if err != nil {
				return err
			}
			info := memberInfo(m)
			out = append(out, Subscription{List: l.Address, Description: l.Description, Roles: info.Roles, Delivery: info.Delivery})
		}
		return nil
	})
	if err != nil {
		return nil, internal(err, "read the subscriptions")
	}
	return out, nil
}

// memberSetTarget is the audit target of a member change: the address and
// the new value of each field changed.
func memberSetTarget(m *lists.Member, req MemberSetRequest) string {
	t := m.Address
	if req.Roles != nil {
		rs := make([]string, len(m.Roles))
		for i, r := range m.Roles {
			rs[i] = string(r)
		}
		t += " roles=" + strconv.Quote(strings.Join(rs, ","))
	}
	if req.Delivery != nil {
		t += " delivery=" + string(m.Delivery)
	}
	if req.Name != nil {
		t += " name=" + strconv.Quote(m.Name)
	}
	return t
}
