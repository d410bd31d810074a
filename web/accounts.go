package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/parleybot/parley"
)

// usersView is the user admin page's data.
type usersView struct {
	Users []parley.User
	Roles []parley.Role
	// NewPassword is a password just generated, shown once.
	NewPassword struct{ User, Password string }
}

const keyNewPassword = "new_password" // "user\x00password", shown once

// users lists the accounts (admins only).
func (s *Server) users(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	us, err := s.st.Users(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := usersView{Users: us, Roles: parley.Roles}
	if np := s.sessions.PopString(ctx, keyNewPassword); np != "" {
		v.NewPassword.User, v.NewPassword.Password, _ = strings.Cut(np, "\x00")
	}
	s.render(w, r, http.StatusOK, "users", "Users", "users", v)
}

func (s *Server) audit(r *http.Request, action, detail string) {
	if _, err := s.st.AddAudit(r.Context(), parley.AuditEntry{Actor: currentUser(r.Context()).Name, Action: action, Detail: detail}); err != nil {
		s.logger.Error("audit", "err", err)
	}
}

// showPassword keeps a generated password for the next page, once.
func (s *Server) showPassword(r *http.Request, user, password string) {
	s.sessions.Put(r.Context(), keyNewPassword, user+"\x00"+password)
}

// addUser creates an account; an empty password is generated and shown
// once.
func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	name := formText(r, "name")
	role, err := parley.ParseRole(r.PostFormValue("role"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	password := r.PostFormValue("password")
	generated := password == ""
	if generated {
		password = GeneratePassword()
	}
	hash, err := hashPassword(password, s.opts.PasswordCost)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.st.CreateUser(r.Context(), name, role, hash); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, "user_add", fmt.Sprintf("%s as %s", name, role))
	if generated {
		s.showPassword(r, name, password)
	}
	s.flash(r.Context(), fmt.Sprintf("User %s added as %s.", name, role), true)
	http.Redirect(w, r, "/users", http.StatusSeeOther)
}

// setRole changes a user's role. Admins cannot demote themselves (someone
// must be left to manage users).
func (s *Server) setRole(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	role, err := parley.ParseRole(r.PostFormValue("role"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if strings.EqualFold(name, currentUser(r.Context()).Name) && role != parley.RoleAdmin {
		s.fail(w, r, parley.Errorf(parley.EINVALID, "you cannot take away your own admin role; ask another admin"))
		return
	}
	if err := s.st.SetUserRole(r.Context(), name, role); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, "user_role", fmt.Sprintf("%s is now %s", name, role))
	s.flash(r.Context(), fmt.Sprintf("%s is now %s.", name, role), true)
	http.Redirect(w, r, "/users", http.StatusSeeOther)
}

// resetPassword gives a user a new generated password, shown once; their
// sessions end.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	password := GeneratePassword()
	hash, err := hashPassword(password, s.opts.PasswordCost)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.st.SetUserPassword(r.Context(), name, hash); err != nil {
		s.fail(w, r, err)
		return
	}
	s.streams.endUser(name, "")
	s.audit(r, "user_password", "reset for "+name)
	s.showPassword(r, name, password)
	http.Redirect(w, r, "/users", http.StatusSeeOther)
}

// deleteUser removes an account (not one's own).
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if strings.EqualFold(name, currentUser(r.Context()).Name) {
		s.fail(w, r, parley.Errorf(parley.EINVALID, "you cannot remove yourself; ask another admin"))
		return
	}
	if err := s.st.DeleteUser(r.Context(), name); err != nil {
		s.fail(w, r, err)
		return
	}
	s.streams.endUser(name, "")
	s.audit(r, "user_remove", name)
	s.flash(r.Context(), "User "+name+" removed; their sessions have ended.", true)
	http.Redirect(w, r, "/users", http.StatusSeeOther)
}

// account shows the logged-in user's account.
func (s *Server) account(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "account", "Your account", "account", nil)
}

// changePassword changes one's own password (the current one is needed).
// Other sessions of the user end; this one goes on.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(ctx)
	if !passwordMatches(u.PasswordHash, r.PostFormValue("current")) {
		s.fail(w, r, parley.Errorf(parley.EINVALID, "the current password is wrong"))
		return
	}
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("confirm") {
		s.fail(w, r, parley.Errorf(parley.EINVALID, "the new password and its confirmation differ"))
		return
	}
	hash, err := hashPassword(pw, s.opts.PasswordCost)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.st.SetUserPassword(ctx, u.Name, hash); err != nil {
		s.fail(w, r, err)
		return
	}
	// This session stays valid: it logged in after the change.
	if err := s.sessions.RenewToken(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	if fresh, err := s.st.User(ctx, u.Name); err == nil {
		s.sessions.Put(ctx, keyLoginAt, fresh.PasswordChangedAt.UnixMilli())
	}
	s.audit(r, "password_change", "")
	s.flash(ctx, "Password changed. Your other sessions have ended.", true)
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}
