/* report.h — `nogilrace report [options] PATH...`. */
#ifndef NGR_AN_REPORT_H
#define NGR_AN_REPORT_H

#include <stdio.h>

int ngr_cmd_report(int argc, char **argv);
void ngr_report_usage(FILE *f);

#endif
