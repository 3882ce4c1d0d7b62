package runners

import (
	"cloister/commands"
	"cloister/internal/site"
	"cloister/keyexpiry"
	"cloister/moderation"
	"cloister/service"
)

// Service returns the service layer of a site, wired as the runners decide:
// the site's scenario set (moderation.Scenarios), and the email commands'
// workflows for confirmations, approvals, welcomes,
// key enrolment and key announcements. The CLI, the API and the web build
// their service with it.
func Service(s *site.Site, opts ...service.Option) *service.Service {
	w := commands.Workflows{Site: s, KeyStore: keyStore(s)}
	base := []service.Option{
		service.WithScenarios(moderation.Scenarios(s)),
		service.WithWorkflows(w),
		service.WithKeyWorkflows(w),
		service.WithKeyStore(keyStore(s)),
		service.WithKeyExpiryNotices(keyexpiry.KeyExpiryNotices),
	}
	return service.New(s, append(base, opts...)...)
}
