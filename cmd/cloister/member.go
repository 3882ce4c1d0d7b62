package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"cloister/lists"
	"cloister/service"
)

func parseRoles(s string) ([]lists.Role, error) {
	var out []lists.Role
	for _, r := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '+' || r == ' ' }) {
		switch lists.Role(r) {
		case lists.RoleOwner, lists.RoleModerator, lists.RoleMember:
			out = append(out, lists.Role(r))
		default:
			return nil, fmt.Errorf("unknown role %q (owner, moderator, member)", r)
		}
	}
	return out, nil
}

func (a *app) memberCmd() *cobra.Command {
	c := &cobra.Command{Use: "member", Short: "Add, remove, list and import members"}
	var name, roles string
	var noDelivery, bindKey bool
	var keyFile string
	add := &cobra.Command{
		Use:   "add LIST ADDRESS",
		Short: "Add a member (roles: member, moderator, owner)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			rs, err := parseRoles(roles)
			if err != nil {
				return err
			}
			req := service.MemberAddRequest{List: args[0], Address: args[1], Name: name, Roles: roleNames(rs)}
			if noDelivery {
				req.Delivery = string(lists.DeliveryDisabled)
			}
			list := a.listName(args[0])
			var keyData []byte
			if keyFile != "" {
				if keyData, err = readKeyFile(keyFile); err != nil {
					return err
				}
			}
			m, err := api.MemberAdd(cmd.Context(), actor, req)
			if err != nil {
				return cliError(err)
			}
			if keyData != nil {
				// The service binds and announces the key (told ADDRESS).
				k, err := api.KeyAdd(cmd.Context(), actor, service.KeyAddRequest{List: list, Address: m.Address, Key: keyData, Bind: bindKey})
				if err != nil {
					err = cliError(err)
					// Nothing changes on error: the member goes again.
					if rerr := api.MemberRemove(cmd.Context(), actor, service.MemberRemoveRequest{List: list, Address: m.Address, AllRoles: true}); rerr != nil {
						return errors.Join(err, fmt.Errorf("%s was added to %s without the key: %w", m.Address, list, cliError(rerr)))
					}
					return fmt.Errorf("%s not added to %s: %w", m.Address, list, err)
				}
				warnUnbound(cmd.ErrOrStderr(), m.Address, keyData)
				kind := "OpenPGP key"
				if k.Kind == "x509" {
					kind = "certificate"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "added %s to %s with %s %s\n", m.Address, list, kind, k.Fingerprint)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added %s to %s\n", m.Address, list)
			return nil
		},
	}
	add.Flags().StringVar(&keyFile, "key", "", "the member's OpenPGP public key or S/MIME certificate (PEM or DER), added to the keyring")
	add.Flags().BoolVar(&bindKey, "bind", false, "with --key: bind an OpenPGP key although no user ID carries the address (the owner vouches)")
	add.Flags().StringVar(&name, "name", "", "display name")
	add.Flags().StringVar(&roles, "role", "member", "roles, comma separated: member, moderator, owner")
	add.Flags().BoolVar(&noDelivery, "no-delivery", false, "do not send posts to this member")

	remove := &cobra.Command{
		Use:   "remove LIST ADDRESS",
		Short: "Remove a member",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			list := a.listName(args[0])
			if err := api.MemberRemove(cmd.Context(), actor, service.MemberRemoveRequest{List: list, Address: args[1], AllRoles: true}); err != nil {
				return cliError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %s from %s\n", args[1], list)
			return nil
		},
	}
	ls := &cobra.Command{
		Use:   "ls LIST",
		Short: "List members with their roles and delivery",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			ms, err := api.MemberList(cmd.Context(), actor, service.MemberListRequest{List: args[0]})
			if err != nil {
				return cliError(err)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			for _, m := range ms {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", m.Address, strings.Join(m.Roles, ","), m.Delivery, m.Name)
			}
			return w.Flush()
		},
	}
	var setRoles, setDelivery, setName string
	set := &cobra.Command{
		Use:   "set LIST ADDRESS",
		Short: "Change a member's roles, delivery or name",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			req := service.MemberSetRequest{List: args[0], Address: args[1]}
			if cmd.Flags().Changed("role") {
				rs, err := parseRoles(setRoles)
				if err != nil {
					return err
				}
				names := roleNames(rs)
				req.Roles = &names
			}
			if cmd.Flags().Changed("delivery") {
				switch setDelivery {
				case "on", "enabled", "off", "disabled", "digest":
				default:
					return fmt.Errorf("--delivery %q: want on, off or digest", setDelivery)
				}
				req.Delivery = &setDelivery
			}
			if cmd.Flags().Changed("name") {
				req.Name = &setName
			}
			_, err = api.MemberSet(cmd.Context(), actor, req)
			return cliError(err)
		},
	}
	set.Flags().StringVar(&setRoles, "role", "", "roles, comma separated: member, moderator, owner")
	set.Flags().StringVar(&setDelivery, "delivery", "", "on, off or digest")
	set.Flags().StringVar(&setName, "name", "", "display name")
	c.AddCommand(add, set, remove, ls, a.memberImportCmd(), a.memberExportCmd())
	return c
}

// roleNames returns roles as the service takes them.
func roleNames(rs []lists.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}
