package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/web"
)

func init() {
	register(&command{
		name:    "user",
		summary: "manage web inbox accounts: add, list, passwd, remove",
		usage: `parley user add NAME --role admin|manager|agent [--password-stdin]
parley user list [--json]
parley user passwd NAME [--password-stdin]
parley user remove NAME

Accounts log in to the web inbox. Roles: admin (users and settings, and
everything else), manager (everything but users), agent (the inbox).
Without --password-stdin a strong password is generated and printed once;
with it the password is the first line of standard input (typed without
echo on a terminal). Passwords have at least 10 characters and are stored
as bcrypt hashes. Changing a password ends the user's sessions.

Example:
  parley user add ana --role manager
  printf '%s\n' "$PASSWORD" | parley user passwd ana --password-stdin`,
		run: runUser,
	})
}

func runUser(ctx context.Context, e *env, args []string) (retErr error) {
	fs := e.flags()
	role := fs.String("role", "", "the new user's role: admin, manager or agent (add)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input instead of generating one (add, passwd)")
	e.jsonFlag()
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return fmt.Errorf("%w: want add, list, passwd or remove", errUsage)
	}
	sub, rest := rest[0], rest[1:]
	switch sub {
	case "list":
		if len(rest) != 0 {
			return fmt.Errorf("%w: list takes no arguments", errUsage)
		}
	case "add", "passwd", "remove":
		if len(rest) != 1 {
			return fmt.Errorf("%w: %s takes one user name", errUsage, sub)
		}
		if err := parley.CheckUserName(rest[0]); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	default:
		return fmt.Errorf("%w: unknown subcommand %q: want add, list, passwd or remove", errUsage, sub)
	}
	if sub == "add" && *role == "" {
		return fmt.Errorf("%w: add needs --role admin, manager or agent", errUsage)
	}
	var r parley.Role
	if *role != "" {
		if r, err = parley.ParseRole(*role); err != nil {
			return fmt.Errorf("%w: --role: %v", errUsage, err)
		}
	}

	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	st, err := e.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer joinErr(&retErr, st.Close)

	if sub == "list" {
		return userList(ctx, e, st)
	}
	name := rest[0]
	actor := defaultActor(e)
	switch sub {
	case "add":
		password, generated, err := userNewPassword(e, *fromStdin)
		if err != nil {
			return err
		}
		if password, err = web.AddUser(ctx, st, name, r, password); err != nil {
			return err
		}
		userAudit(ctx, e, st, actor, "user_add", fmt.Sprintf("%s as %s (parley user)", name, r))
		fmt.Fprintf(e.stdout, "user %s added as %s\n", name, r)
		if generated {
			userPrintPassword(e, name, password)
		}
	case "passwd":
		if _, err := st.User(ctx, name); err != nil {
			return err
		}
		password, generated, err := userNewPassword(e, *fromStdin)
		if err != nil {
			return err
		}
		if password, err = web.SetPassword(ctx, st, name, password); err != nil {
			return err
		}
		userAudit(ctx, e, st, actor, "user_password", "changed for "+name+" (parley user)")
		fmt.Fprintf(e.stdout, "password of %s changed; their sessions have ended\n", name)
		if generated {
			userPrintPassword(e, name, password)
		}
	case "remove":
		if err := st.DeleteUser(ctx, name); err != nil {
			return err
		}
		userAudit(ctx, e, st, actor, "user_remove", name+" (parley user)")
		fmt.Fprintf(e.stdout, "user %s removed; their entries in the activity log stay\n", name)
		if users, err := st.Users(ctx); err == nil && !userHasAdmin(users) {
			fmt.Fprintln(e.stderr, "note: no admin is left to manage users in the web inbox; add one with 'parley user add NAME --role admin'")
		}
	}
	return nil
}

// userNewPassword reads the password from stdin when asked (without echo on a
// terminal), else returns "" for web to generate one.
func userNewPassword(e *env, fromStdin bool) (password string, generated bool, err error) {
	if !fromStdin {
		return "", true, nil
	}
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", false, fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(e.stderr, "Again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", false, fmt.Errorf("read password: %w", err)
		}
		if string(b) != string(again) {
			return "", false, parley.Errorf(parley.EINVALID, "the two passwords differ")
		}
		password = string(b)
	} else {
		line, err := bufio.NewReader(io.LimitReader(e.stdin, 4096)).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", false, fmt.Errorf("read password from standard input: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if password == "" {
		return "", false, parley.Errorf(parley.EINVALID, "--password-stdin: standard input is empty; pipe the password in, or leave the flag out to generate one")
	}
	if err := web.CheckPassword(password); err != nil {
		return "", false, err
	}
	return password, false, nil
}

func userPrintPassword(e *env, name, password string) {
	fmt.Fprintf(e.stdout, "password: %s\n", password)
	fmt.Fprintf(e.stderr, "(shown once: hand it to %s privately; they can change it under their account in the web inbox)\n", name)
}

func userAudit(ctx context.Context, e *env, st cliStore, actor, action, detail string) {
	if _, err := st.AddAudit(ctx, parley.AuditEntry{Actor: actor, Action: action, Detail: detail}); err != nil {
		e.logger.Warn("audit", "err", err)
	}
}

func userHasAdmin(users []parley.User) bool {
	for _, u := range users {
		if u.Role == parley.RoleAdmin {
			return true
		}
	}
	return false
}

func userList(ctx context.Context, e *env, st cliStore) error {
	users, err := st.Users(ctx)
	if err != nil {
		return err
	}
	if e.jsonOut {
		if users == nil {
			users = []parley.User{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(users)
	}
	if len(users) == 0 {
		fmt.Fprintln(e.stdout, "no users yet; add one with 'parley user add NAME --role admin'")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tLAST LOGIN\tCREATED")
	for _, u := range users {
		last := "never"
		if !u.LastLoginAt.IsZero() {
			last = u.LastLoginAt.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, last, u.CreatedAt.Local().Format("2006-01-02"))
	}
	return tw.Flush()
}
