package main

import (
	"flag"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/web"
)

// envSetting is one deployment setting that may come from the
// environment. docs/configuration.md lists them (TestEnvSettingsDocumented
// keeps the two in step).
type envSetting struct {
	name, what string
}

// envSettings are read under the command-line flags and over the config
// file: a flag beats the variable, the variable beats the file.
var envSettings = []envSetting{
	{"PARLEY_CONFIG", "the config file, as --config"},
	{"PARLEY_DATA", "the data folder, as --data (over the config's data:)"},
	{"PARLEY_DB", "the database file, as --db"},
	{"PARLEY_DATABASE_URL", "a PostgreSQL URL: the store is PostgreSQL (over the config's store:)"},
	{"PARLEY_LOG_LEVEL", "debug, info, warn or error, as --log-level"},
	{"PARLEY_ADDR", "where the web inbox listens, as --addr (over web.addr)"},
	{"PARLEY_METRICS_ADDR", "where /metrics is served (over web.metrics_addr)"},
	{"PARLEY_BASE_URL", "the inbox's public URL (over web.base_url)"},
}

// applyEnvFlags fills the common flags not given on the command line from
// the environment. --db and --data name the same thing: either given on
// the command line wins over both variables.
func (e *env) applyEnvFlags() {
	if e.getenv == nil {
		return
	}
	set := map[string]bool{}
	e.flags().Visit(func(f *flag.Flag) { set[f.Name] = true })
	fill := func(dst *string, flagName, variable string) {
		if !set[flagName] && *dst == "" {
			*dst = e.getenv(variable)
		}
	}
	fill(&e.configPath, "config", "PARLEY_CONFIG")
	fill(&e.logLevel, "log-level", "PARLEY_LOG_LEVEL")
	if !set["db"] && !set["data"] {
		fill(&e.dbPath, "db", "PARLEY_DB")
		fill(&e.dataDir, "data", "PARLEY_DATA")
	}
}

// overlayEnv puts the web settings from the environment over the file's,
// checked like the file's.
func (e *env) overlayEnv(cfg *Config) error {
	if e.getenv == nil {
		return nil
	}
	var w web.Config
	for _, s := range []struct {
		variable string
		dst, tmp *string
	}{
		{"PARLEY_ADDR", &cfg.Web.Addr, &w.Addr},
		{"PARLEY_METRICS_ADDR", &cfg.Web.MetricsAddr, &w.MetricsAddr},
		{"PARLEY_BASE_URL", &cfg.Web.BaseURL, &w.BaseURL},
	} {
		if v := e.getenv(s.variable); v != "" {
			*s.dst, *s.tmp = v, v
		}
	}
	if errs := w.Validate(); len(errs) > 0 {
		return parley.Errorf(parley.EINVALID, "from the environment (PARLEY_ADDR, PARLEY_METRICS_ADDR, PARLEY_BASE_URL): %v", errs[0])
	}
	return nil
}

// envAddr is PARLEY_ADDR, for commands that listen or probe without a
// config.
func (e *env) envAddr() string {
	if e.getenv == nil {
		return ""
	}
	return e.getenv("PARLEY_ADDR")
}
