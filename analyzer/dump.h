/* dump.h — `nogilrace dump [--json] TRACE_OR_DIR...`: every record in replay order, names resolved.
 * The JSON lines are the shared test interface described in the team brief ("Trace dump") and in
 * docs/json-schema.md; the text form is the same information for people. */
#ifndef NGR_AN_DUMP_H
#define NGR_AN_DUMP_H

#include <stdio.h>

#include "replay.h"

/* argv[0] is "dump".  Returns the exit status (0, or 2 on usage errors / unreadable input; a file
 * without a header among several is a warning, as in report). */
int ngr_cmd_dump(int argc, char **argv);

/* Writes the JSON array of a Python stack ([{"file":..,"line":..,"function":..},...]). */
void ngr_dump_stack_json(FILE *f, const struct ngr_trace *t, uint32_t stack_id);

#endif
