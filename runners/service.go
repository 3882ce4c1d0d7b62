package runners

import (
	"time"

	"cloister/commands"
	"cloister/internal/site"
	"cloister/service"
)

// ServiceModeration gives the service layer the decisions on held posts:
// the same functions the email commands and the CLI used directly.
var ServiceModeration = service.Moderation{
	Approve: Approve, Reject: Reject, Discard: Discard,
	Headers: HeldHeaders, SendCopy: SendHeldCopy, ErrNoKey: ErrNoKeyForCopy,
	Expire: func(s *site.Site, now time.Time) (int, int, error) {
		n, err := ExpireHeld(s, now)
		return n.Held, n.Tokens, err
	},
}

// Service returns the service layer of a site, wired as the runners decide:
// the site's scenario set (Scenarios), the moderation of held posts, and
// the email commands' workflows for confirmations, approvals, welcomes,
// key enrolment and key announcements. The CLI, the API and the web build
// their service with it.
func Service(s *site.Site, opts ...service.Option) *service.Service {
	w := commands.Workflows{Site: s, KeyStore: keyStore(s)}
	base := []service.Option{
		service.WithScenarios(Scenarios(s)),
		service.WithModeration(ServiceModeration),
		service.WithWorkflows(w),
		service.WithKeyWorkflows(w),
		service.WithKeyStore(keyStore(s)),
		service.WithKeyExpiryNotices(KeyExpiryNotices),
	}
	return service.New(s, append(base, opts...)...)
}
