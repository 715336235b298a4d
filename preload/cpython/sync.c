/* sync.c — threading locks and happens-before edges (see sync.h). */
#include "sync.h"

#include "ngr_api.h"
#include "trace_format.h"

int ngr_sync_init(void)
{
    return 0;
}

void ngr_sync_name_hint(PyObject *obj, const char *qualified_name)
{
    (void)obj;
    (void)qualified_name;
}
