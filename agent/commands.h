/* commands: the entry point of each stswatch command; each returns the exit code. */
#ifndef STSWATCH_COMMANDS_H
#define STSWATCH_COMMANDS_H

/* stswatch check [options] [DOMAIN...] */
int cmd_check(int argc, char **argv);
/* stswatch lint policy FILE|- [--mx HOST...] | lint txt RECORD... */
int cmd_lint(int argc, char **argv);
/* stswatch config check [-c FILE] */
int cmd_config(int argc, char **argv);
/* stswatch run --once [options] */
int cmd_run(int argc, char **argv);
/* stswatch status [DOMAIN...] */
int cmd_status(int argc, char **argv);
/* stswatch history DOMAIN */
int cmd_history(int argc, char **argv);
/* stswatch db check|prune */
int cmd_db(int argc, char **argv);
/* stswatch metrics: the Prometheus text of the database */
int cmd_metrics(int argc, char **argv);
/* stswatch alerts [list|silence|unsilence] ... */
int cmd_alerts(int argc, char **argv);
/* check_mta_sts ... or stswatch plugin ... */
int cmd_plugin(int argc, char **argv);

#endif
