#include "report.h"
int ngr_cmd_report(int argc, char **argv) { (void)argc; (void)argv; return 2; }
void ngr_report_usage(FILE *f) { fprintf(f, "report: TODO\n"); }
