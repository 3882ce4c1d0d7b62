// Command cloister is the operator's command line: it creates sites and lists,
// manages members, inspects queues and held posts, writes MTA snippets, and
// runs the runners (`cloister runner NAME`, or all at once with `cloister runners`).
package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"cloister/internal/config"
	"cloister/internal/site"
	"cloister/keyring"
)

// app carries the global flags and opens the site lazily.
type app struct {
	configPath string
	// apiAddr, tokenFile and apiFingerprint select the CLI's remote mode
	// (remote.go).
	apiAddr, tokenFile, apiFingerprint string
	logFormat                          string
	logLevel                           string
	site                               *site.Site
}

func main() {
	a := &app{}
	root := a.rootCmd()
	if err := root.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "cloister: %v\n", err)
		os.Exit(1)
	}
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "cloister",
		Short:         "Cloister, a secure mailing-list manager",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "path of cloister.toml (default $CLOISTER_CONFIG, ./cloister.toml, /etc/cloister/cloister.toml)")
	root.PersistentFlags().StringVar(&a.logFormat, "log-format", "text", "log format: text (logfmt) or json")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	a.remoteFlags(root)
	root.AddCommand(
		a.initCmd(),
		a.listCmd(),
		a.memberCmd(),
		a.queueCmd(),
		a.heldCmd(),
		a.scenarioCmd(),
		a.runnerCmd(),
		a.runnersCmd(),
		a.aliasesCmd(),
		a.mtaCmd(),
		a.statusCmd(),
		a.checkCmd(),
		a.keyCmd(),
		a.metricsCmd(),
		a.backupCmd(),
		a.restoreCmd(),
		a.docsCmd(),
		a.archiveCmd(),
		a.auditCmd(),
		a.tokenCmd(),
		a.apiCmd(),
		a.webCmd(),
		a.importCmd(),
	)
	return root
}

func (a *app) logger() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(a.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if a.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// open loads the configuration and opens the site.
func (a *app) open() (*site.Site, error) {
	if a.site != nil {
		return a.site, nil
	}
	if a.remoteAPI() != "" {
		return nil, errLocalOnly
	}
	cfg, err := config.Load(a.configPath)
	if err != nil {
		return nil, err
	}
	s, err := site.Open(cfg, a.logger())
	if err != nil {
		return nil, err
	}
	k, err := keyring.OpenSite(cfg)
	if err != nil {
		return nil, fmt.Errorf("open keyring: %w", err)
	}
	s.SetKeyring(k)
	a.site = s
	return s, nil
}
