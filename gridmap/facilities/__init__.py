"""Facilities (部件): the component taxonomy, IDs, the service and the OSM import.

Who may do what (capabilities of :data:`gridmap.auth.scope.ROLE_CAPABILITIES`):

``facility.report``
    change a facility's state (intact, damaged, missing, occupied) with a comment, in the
    grids the caller reaches: grid workers and community admins on their walks, the command
    centre's dispatchers, and the departments' handlers who repair them.
``facility.edit``
    register, import, move, rename and retire facilities, and set states, in the caller's
    divisions: planners (their streets or districts) and administrators (everywhere).
"""
REPORT_CAPABILITY = "facility.report"
EDIT_CAPABILITY = "facility.edit"
CAPABILITIES = frozenset({REPORT_CAPABILITY, EDIT_CAPABILITY})
