package service

import (
	"context"
	"time"

	"cloister/internal/site"
	"cloister/keyring"
	"cloister/rules"
)

// Service runs the operations of one site. Build it with New.
type Service struct {
	site      *site.Site
	scenarios *rules.ScenarioSet
	keyring   func() (*keyring.Keyring, error)
	now       func() time.Time
	workflows Workflows
	keyflows  KeyWorkflows
	keyStore  KeyStore
	// expiryNotices queues the key expiry notices (runners).
	expiryNotices func(s *site.Site, now time.Time) (int, error)
}

// Option configures a Service.
type Option func(*Service)

// WithScenarios sets the site's scenario set (default: one read from the
// site's scenario directory). Callers that cache one (moderation.Scenarios)
// pass it, so every way in decides with the same set.
func WithScenarios(ss *rules.ScenarioSet) Option { return func(s *Service) { s.scenarios = ss } }

// WithKeyring sets how the service opens the site's keyring for the
// operations that change keys (list key generation, subscriber keys). It
// is called only when such an operation runs.
func WithKeyring(open func() (*keyring.Keyring, error)) Option {
	return func(s *Service) { s.keyring = open }
}

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New returns the service of a site.
func New(st *site.Site, opts ...Option) *Service {
	s := &Service{site: st, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if s.scenarios == nil {
		s.scenarios = rules.NewScenarioSet(st.Config.ScenarioDir)
	}
	return s
}

// Site returns the site the service runs.
func (s *Service) Site() *site.Site { return s.site }

// API lists every operation of the service. *Service satisfies it; a
// remote client of the API daemon may too.
type API interface {
	// Lists.
	ListList(ctx context.Context, a Actor, req ListListRequest) ([]ListSummary, error)
	ListShow(ctx context.Context, a Actor, req ListRef) (ListInfo, error)
	ListCreate(ctx context.Context, a Actor, req ListCreateRequest) (ListInfo, error)
	ListDelete(ctx context.Context, a Actor, req ListRef) error
	ApplyImport(ctx context.Context, a Actor, req ImportPlanRequest) (ImportPlanResult, error)
	ListSet(ctx context.Context, a Actor, req ListSetRequest) (ListInfo, error)
	ListApplyStyle(ctx context.Context, a Actor, req ListStyleRequest) (ListInfo, error)
	StyleList(ctx context.Context, a Actor) ([]StyleInfo, error)

	// Members.
	MemberList(ctx context.Context, a Actor, req MemberListRequest) ([]MemberInfo, error)
	MemberAdd(ctx context.Context, a Actor, req MemberAddRequest) (MemberInfo, error)
	MemberRemove(ctx context.Context, a Actor, req MemberRemoveRequest) error
	MemberSet(ctx context.Context, a Actor, req MemberSetRequest) (MemberInfo, error)
	MemberSetDelivery(ctx context.Context, a Actor, req MemberDeliveryRequest) (MemberInfo, error)
	MemberImport(ctx context.Context, a Actor, req MemberImportRequest) (ImportResult, error)
	MemberExport(ctx context.Context, a Actor, req MemberExportRequest) (Export, error)
	Subscribe(ctx context.Context, a Actor, req SubscribeRequest) (MemberInfo, error)
	Unsubscribe(ctx context.Context, a Actor, req MemberRef) error
	MySubscriptions(ctx context.Context, a Actor, req MySubscriptionsRequest) ([]Subscription, error)

	// Held posts.
	HeldList(ctx context.Context, a Actor, req HeldListRequest) ([]HeldInfo, error)
	HeldShow(ctx context.Context, a Actor, req HeldRef) (HeldPost, error)
	HeldApprove(ctx context.Context, a Actor, req HeldRef) error
	HeldReject(ctx context.Context, a Actor, req HeldRejectRequest) error
	HeldDiscard(ctx context.Context, a Actor, req HeldRef) error
	HeldSendToMe(ctx context.Context, a Actor, req HeldRef) error
	// HeldExpire and KeyExpiryNotices are site chores the runners run too.
	HeldExpire(ctx context.Context, a Actor) (HeldExpired, error)
	KeyExpiryNotices(ctx context.Context, a Actor) (int, error)

	// Keys.
	KeyList(ctx context.Context, a Actor, req KeyListRequest) ([]SubscriberKey, error)
	KeyAdd(ctx context.Context, a Actor, req KeyAddRequest) (SubscriberKey, error)
	KeyRevoke(ctx context.Context, a Actor, req KeyRevokeRequest) error
	MyKey(ctx context.Context, a Actor, req MyKeyRequest) ([]SubscriberKey, error)
	KeyChallenge(ctx context.Context, a Actor, req KeyChallengeRequest) (KeyChallenge, error)
	KeyVerify(ctx context.Context, a Actor, req KeyVerifyRequest) (SubscriberKey, error)
	ListKeyExport(ctx context.Context, a Actor, req ListKeyRequest) (Export, error)
	KeyRequestDecide(ctx context.Context, a Actor, req KeyRequestDecideRequest) (string, error)
	// ListKeyGenerate, ListKeyImport, ListKeyRevoke and KeyringRekey
	// handle the lists' secret keys, which stay on the server (an import
	// sends the key's bytes to it).
	ListKeyGenerate(ctx context.Context, a Actor, req ListKeyGenerateRequest) (ListKeyResult, error)
	ListKeyImport(ctx context.Context, a Actor, req ListKeyImportRequest) (ListKeyResult, error)
	ListKeyRevoke(ctx context.Context, a Actor, req ListKeyRevokeRequest) (ListKeyResult, error)
	KeyringRekey(ctx context.Context, a Actor, req RekeyRequest) (int, error)
	// KeyBulkImport takes parsed keys (the API client sends them as one
	// binary keyring).
	KeyBulkImport(ctx context.Context, a Actor, req KeyBulkImportRequest) ([]keyring.BulkResult, error)

	// Site state.
	QueueStatus(ctx context.Context, a Actor) ([]QueueInfo, error)
	QueueEntries(ctx context.Context, a Actor, req QueueRef) ([]QueueEntry, error)
	QueueRequeue(ctx context.Context, a Actor, req QueueRequeueRequest) ([]Requeued, error)
	BounceList(ctx context.Context, a Actor, req ListRef) ([]BounceInfo, error)
	Audit(ctx context.Context, a Actor, req AuditRequest) ([]AuditEntry, error)
}

var _ API = (*Service)(nil)
