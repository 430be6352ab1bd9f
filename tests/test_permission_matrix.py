"""Every route of the app, as every kind of person: who gets in, who is told to sign in, refused or shown nothing.

The rows come from the app's own URL map (every rule, GET and POST where the rule accepts them; `static` aside),
the columns from tests/rich_world.py's ROLES. URL arguments are real objects of the HOME partnership (a plan, an
action, a committee, a meeting, an issued workbook, a round...). Each cell sends one request (a POST with an
empty form; CSRF is off in tests, and the JSON API gets `{}` and the person's own bearer token) and sorts the
answer into a class:

    ok      2xx, or a redirect that is not to the sign-in page
    login   a redirect to the sign-in page, or 401
    forb    403
    hide    404 (the record "does not exist" for this person)
    bad     400: the permission check passed and the empty form was refused
    409     409 conflict

No cell may answer 500. A cell that is not `ok` must change nothing in the database (a fingerprint of every
table is compared before and after); neither may any GET. After a cell that did change something, the world is
built afresh for the next one.

A NEW ROUTE FAILS `test_cell` UNTIL IT HAS A ROW IN `MATRIX` below: add one, with the class each person should
get. Known access bugs are listed in KNOWN_BUGS with the class they SHOULD get; they run as strict xfails, so
the cell turns red (XPASS) the day the fix lands and the entry must then be removed.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import LargeBinary, text
from werkzeug.routing import AnyConverter

from tests.conftest import _empty_all_tables, app_config, sign_in_client
from tests.page_clients import FreshContextClient
from tests.rich_world import ROLES, build_world
from tracker import create_app
from tracker.auth.models import User
from tracker.extensions import db

# ---------------------------------------------------------------------------------------------------------------
# The expected outcome of every cell. One row per "METHOD rule"; one column per role (see tests/rich_world.py):
#   anon      not signed in                    officer    home lead officer, leads the action in the URL
#   norole    signed in, no role anywhere      colleague  home lead officer, leads another action
#   viewer    home viewer                      manager    home plan manager (the plan's manager)
#   carer     home viewer + committee member   padmin     home partnership administrator
#   former    committee member whose every     o_manager  other partnership's plan manager
#             home role was removed            o_admin    other partnership's administrator
#                                              site       site administrator
#                                              auditor    home auditor (reads as a viewer; verifies and
#                                                         re-opens audit recommendations)
# The user in /admin/users/<id> is a home lead officer who is also a viewer in the other partnership.
# ---------------------------------------------------------------------------------------------------------------
MATRIX = """
rule                                                                             anon  norole viewer carer former officer colleague manager padmin o_manager o_admin site auditor
GET /                                                                            login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok

GET /account/reminders                                                           login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
POST /account/reminders                                                          login bad    bad    bad   bad    bad     bad       bad     bad    bad       bad     bad   bad

GET /actions/<int:action_id>                                                     login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
POST /actions/<int:action_id>                                                    login hide   forb   forb  hide   bad     forb      bad     bad    hide      hide    bad   forb
GET /actions/<int:action_id>/close                                               login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /actions/<int:action_id>/close                                              login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad   forb
GET /actions/<int:action_id>/edit                                                login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /actions/<int:action_id>/edit                                               login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad   forb
GET /actions/<int:action_id>/supersede                                           login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /actions/<int:action_id>/supersede                                          login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad   forb

GET /audit-recommendations/                                                      login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
GET /audit-recommendations/partnerships/<int:partnership_id>                     login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /audit-recommendations/partnerships/<int:partnership_id>/reports/new         login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /audit-recommendations/partnerships/<int:partnership_id>/reports/new        login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad  forb
GET /audit-recommendations/recommendations/<int:recommendation_id>               login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
POST /audit-recommendations/recommendations/<int:recommendation_id>/complete     login hide   forb   forb  hide   bad     forb      bad     bad    hide      hide    bad  forb
POST /audit-recommendations/recommendations/<int:recommendation_id>/reopen       login hide   forb   forb  hide   forb    forb      forb    forb   hide      hide    forb bad
POST /audit-recommendations/recommendations/<int:recommendation_id>/verify       login hide   forb   forb  hide   forb    forb      forb    forb   hide      hide    forb bad
GET /audit-recommendations/reports/<int:report_id>                               login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /audit-recommendations/reports/<int:report_id>/import                        login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /audit-recommendations/reports/<int:report_id>/import                       login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad  forb
POST /audit-recommendations/reports/<int:report_id>/import/confirm               login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad  forb
GET /audit-recommendations/reports/<int:report_id>/recommendations/new           login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /audit-recommendations/reports/<int:report_id>/recommendations/new          login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad  forb

GET /evidence/<any(action, update, rating, recommendation):target>/<int:target_id>/add   login hide forb forb hide ok forb ok ok hide hide ok forb
POST /evidence/<any(action, update, rating, recommendation):target>/<int:target_id>/add  login hide forb forb hide bad forb bad bad hide hide bad forb
GET /evidence/<int:evidence_id>/download                                         login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /api/v1/plans/<int:plan_id>/risks                                            login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /api/v1/risks/<int:risk_id>                                                  login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /api/v1/partnerships/<int:partnership_id>/audit-reports                      login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /api/v1/audit-recommendations/<int:recommendation_id>                        login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
POST /api/v1/risks/<int:risk_id>/reviews                                         login hide   forb   forb  hide   bad     forb      bad     bad    hide      hide    bad  forb

GET /admin/                                                                      login forb   forb   forb  forb   forb    forb      forb    ok     forb      ok      ok   forb
GET /admin/organisations                                                         login forb   forb   forb  forb   forb    forb      forb    ok     forb      ok      ok   forb
GET /admin/outbox/                                                               login forb   forb   forb  forb   forb    forb      forb    forb   forb      forb    ok   forb
GET /admin/outbox/<int:send_id>/resend                                           login forb   forb   forb  forb   forb    forb      forb    forb   forb      forb    ok   forb
POST /admin/outbox/<int:send_id>/resend                                          login forb   forb   forb  forb   forb    forb      forb    forb   forb      forb    ok   forb
GET /admin/organisations/<int:organisation_id>                                   login forb   forb   forb  forb   forb    forb      forb    ok     forb      hide    ok   forb
POST /admin/organisations/<int:organisation_id>                                  login forb   forb   forb  forb   forb    forb      forb    ok     forb      hide    ok   forb
GET /admin/organisations/new                                                     login forb   forb   forb  forb   forb    forb      forb    ok     forb      ok      ok   forb
POST /admin/organisations/new                                                    login forb   forb   forb  forb   forb    forb      forb    bad    forb      bad     bad   forb
GET /admin/partnerships                                                          login forb   forb   forb  forb   forb    forb      forb    forb   forb      forb    ok   forb
GET /admin/partnerships/<int:partnership_id>                                     login forb   forb   forb  forb   forb    forb      forb    forb   forb      forb    ok   forb
POST /admin/partnerships/<int:partnership_id>                                    login forb   forb   forb  forb   forb    forb      forb    forb   forb      forb    ok   forb
GET /admin/partnerships/new                                                      login forb   forb   forb  forb   forb    forb      forb    forb   forb      forb    ok   forb
POST /admin/partnerships/new                                                     login forb   forb   forb  forb   forb    forb      forb    forb   forb      forb    bad   forb
GET /admin/users                                                                 login forb   forb   forb  forb   forb    forb      forb    ok     forb      ok      ok   forb
GET /admin/users/<int:user_id>                                                   login forb   forb   forb  forb   forb    forb      forb    ok     forb      ok      ok   forb
POST /admin/users/<int:user_id>                                                  login forb   forb   forb  forb   forb    forb      forb    forb   forb      forb    ok   forb
POST /admin/users/<int:user_id>/<any(disable, enable):change>                    login forb   forb   forb  forb   forb    forb      forb    forb   forb      forb    ok   forb
POST /admin/users/<int:user_id>/roles                                            login forb   forb   forb  forb   forb    forb      forb    forb   forb      forb    ok   forb
GET /admin/users/new                                                             login forb   forb   forb  forb   forb    forb      forb    ok     forb      ok      ok   forb
POST /admin/users/new                                                            login forb   forb   forb  forb   forb    forb      forb    bad    forb      bad     bad   forb

GET /api/v1/actions/<int:action_id>                                              login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /api/v1/actions/<int:action_id>/updates                                      login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
POST /api/v1/actions/<int:action_id>/updates                                     login hide   forb   forb  hide   bad     forb      bad     bad    hide      hide    bad   forb
GET /api/v1/openapi.json                                                         ok    ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
GET /api/v1/plans                                                                login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
GET /api/v1/plans/<int:plan_id>                                                  login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /api/v1/plans/<int:plan_id>/actions                                          login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /committees/<int:committee_id>/changes                                       login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /committees/<int:committee_id>/meetings/<int:meeting_id>/edit                login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /committees/<int:committee_id>/meetings/<int:meeting_id>/edit               login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad  forb
GET /committees/<int:committee_id>/remove                                        login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /committees/<int:committee_id>/remove                                       login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb

GET /auth/account                                                                login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
GET /auth/api-tokens                                                             login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
POST /auth/api-tokens                                                            login bad    bad    bad   bad    bad     bad       bad     bad    bad       bad     bad   bad
POST /auth/api-tokens/<int:token_id>/revoke                                      login hide   hide   hide  hide   ok      hide      hide    hide   hide      hide    hide   hide
GET /auth/change-password                                                        login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
POST /auth/change-password                                                       login bad    bad    bad   bad    bad     bad       bad     bad    bad       bad     bad   bad
GET /auth/reset-password                                                         ok    ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
POST /auth/reset-password                                                        bad   bad    bad    bad   bad    bad     bad       bad     bad    bad       bad     bad   bad
GET /auth/reset-password/<token>                                                 ok    ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
POST /auth/reset-password/<token>                                                bad   bad    bad    bad   bad    bad     bad       bad     bad    bad       bad     bad   bad
GET /auth/new-password                                                           hide  hide   hide   hide  hide   hide    hide      hide    hide   hide      hide    hide   hide
POST /auth/new-password                                                          hide  hide   hide   hide  hide   hide    hide      hide    hide   hide      hide    hide   hide
GET /auth/sign-in                                                                ok    ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
POST /auth/sign-in                                                               bad   ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
POST /auth/sign-out                                                              login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
GET /imports/<token>/leads                                                       login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /imports/<token>/leads                                                      login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /imports/<token>/leads/invite                                               login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /imports/<token>/plan                                                       login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad  forb

GET /committees/                                                                 login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
GET /committees/<int:committee_id>                                               login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /committees/<int:committee_id>/edit                                          login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /committees/<int:committee_id>/edit                                         login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /committees/<int:committee_id>/meetings                                     login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad  forb
POST /committees/<int:committee_id>/meetings/<int:meeting_id>/issue              login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /committees/<int:committee_id>/meetings/<int:meeting_id>/remove             login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /committees/<int:committee_id>/members                                      login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /committees/<int:committee_id>/members/<int:member_id>/remove               login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
GET /committees/new                                                              login forb   forb   forb  forb   forb    forb      ok      ok     ok        ok      ok   forb
POST /committees/new                                                             login forb   forb   forb  forb   forb    forb      bad     bad    bad       bad     bad  forb

GET /imports/                                                                    login forb   forb   forb  forb   forb    forb      ok      ok     ok        ok      ok   forb
POST /imports/                                                                   login forb   forb   forb  forb   forb    forb      bad     bad    bad       bad     bad   forb
GET /imports/<token>                                                             login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /imports/<token>/confirm                                                    login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /imports/<token>/mapping                                                    login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
GET /imports/names/<int:partnership_id>                                          login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /imports/names/<int:partnership_id>                                         login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad   forb
GET /plans/<int:plan_id>/archive                                                 login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /plans/<int:plan_id>/archive                                                login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /plans/<int:plan_id>/restore                                                login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
GET /plans/archived                                                              login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
GET /my-actions                                                                  login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
GET /plans/<int:plan_id>/changes                                                 login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /plans/<int:plan_id>/reassign/done                                           login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /plans/<int:plan_id>/reassign/undo                                          login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad  forb

GET /risks/                                                                      login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
GET /risks/<int:risk_id>                                                         login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /risks/<int:risk_id>/review                                                  login hide   forb   forb  hide   ok      forb      ok      ok     hide      hide    ok   forb
POST /risks/<int:risk_id>/review                                                 login hide   forb   forb  hide   bad     forb      bad     bad    hide      hide    bad  forb
GET /risks/<int:risk_id>/status                                                  login hide   forb   forb  hide   ok      forb      ok      ok     hide      hide    ok   forb
POST /risks/<int:risk_id>/status                                                 login hide   forb   forb  hide   bad     forb      bad     bad    hide      hide    bad  forb
GET /risks/partnerships/<int:partnership_id>                                     login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /risks/partnerships/<int:partnership_id>/import                              login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /risks/partnerships/<int:partnership_id>/import                             login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad  forb
POST /risks/partnerships/<int:partnership_id>/import/confirm                     login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad  forb
POST /risks/partnerships/<int:partnership_id>/import/mapping                     login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad  forb
GET /risks/partnerships/<int:partnership_id>/matrix                              login hide   forb   forb  hide   forb    forb      forb    ok     hide      hide    ok   forb
POST /risks/partnerships/<int:partnership_id>/matrix                             login hide   forb   forb  hide   forb    forb      forb    bad    hide      hide    bad  forb
GET /risks/partnerships/<int:partnership_id>/new                                 login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /risks/partnerships/<int:partnership_id>/new                                login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad  forb
GET /risks/plans/<int:plan_id>                                                   login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok

GET /jobs                                                                        login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
POST /jobs/backup                                                                login forb   forb   forb  forb   forb    forb      forb    forb   forb      forb    ok   forb
POST /jobs/benchmarking                                                          login bad    bad    bad   bad    bad     bad       bad     bad    bad       bad     bad  bad
GET /jobs/<int:job_id>                                                           login hide   hide   hide  hide   hide    hide      ok      hide   hide      hide    ok   hide
GET /jobs/<int:job_id>/progress                                                  login hide   hide   hide  hide   hide    hide      ok      hide   hide      hide    ok   hide
POST /jobs/<int:job_id>/cancel                                                   login hide   hide   hide  hide   hide    hide      ok      hide   hide      hide    ok   hide
GET /jobs/<int:job_id>/result                                                    login hide   hide   hide  hide   hide    hide      hide    hide   hide      hide    hide hide


GET /indicators/                                                                 login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
GET /indicators/<int:indicator_id>                                               login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /indicators/<int:indicator_id>/edit                                          login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /indicators/<int:indicator_id>/edit                                         login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad   forb
GET /indicators/<int:indicator_id>/values                                        login hide   forb   forb  hide   ok      forb      ok      ok     hide      hide    ok   forb
POST /indicators/<int:indicator_id>/values                                       login hide   forb   forb  hide   ok      forb      ok      ok     hide      hide    ok   forb
GET /indicators/<int:indicator_id>/values/<start>                                login hide   forb   forb  hide   ok      forb      ok      ok     hide      hide    ok   forb
POST /indicators/<int:indicator_id>/values/<start>                               login hide   forb   forb  hide   bad     forb      bad     bad    hide      hide    bad   forb
GET /indicators/<int:indicator_id>/values/other                                  login hide   forb   forb  hide   ok      forb      ok      ok     hide      hide    ok   forb
GET /indicators/plans/<int:plan_id>/import                                       login hide   forb   forb  hide   ok      forb      ok      ok     hide      hide    ok   forb
POST /indicators/plans/<int:plan_id>/import                                      login hide   forb   forb  hide   bad     forb      bad     bad    hide      hide    bad   forb
POST /indicators/plans/<int:plan_id>/import/confirm                              login hide   forb   forb  hide   ok      forb      ok      ok     hide      hide    ok   forb
GET /indicators/plans/<int:plan_id>/new                                          login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /indicators/plans/<int:plan_id>/new                                         login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad   forb

GET /plans                                                                       login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
GET /plans/<int:plan_id>                                                         login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /plans/<int:plan_id>/actions/new                                             login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /plans/<int:plan_id>/actions/new                                            login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad   forb
GET /plans/<int:plan_id>/audit.xlsx                                              login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
GET /plans/<int:plan_id>/edit                                                    login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /plans/<int:plan_id>/edit                                                   login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad   forb
GET /plans/<int:plan_id>/reassign                                                login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /plans/<int:plan_id>/reassign                                               login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad   forb
GET /plans/<int:plan_id>/returns                                                 login hide   forb   forb  hide   ok      ok        ok      ok     hide      hide    ok   forb
POST /plans/<int:plan_id>/returns                                                login hide   forb   forb  hide   bad     bad       bad     bad    hide      hide    bad   forb
GET /plans/<int:plan_id>/returns/download                                        login hide   forb   forb  hide   ok      ok        ok      ok     hide      hide    ok   forb
GET /plans/<int:plan_id>/workbook                                                login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /plans/<int:plan_id>/papers/<any(pdf, docx):kind>                            login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
POST /plans/<int:plan_id>/papers/<any(xlsx, pdf, docx):kind>/job                 login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /plans/new                                                                   login forb   forb   forb  forb   forb    forb      ok      ok     ok        ok      ok   forb
POST /plans/new                                                                  login forb   forb   forb  forb   forb    forb      bad     bad    bad       bad     bad   forb

GET /returns/<int:upload_id>                                                     login hide   hide   hide  hide   ok      hide      hide    hide   hide      hide    hide   hide
POST /returns/<int:upload_id>/confirm                                            login hide   hide   hide  hide   ok      hide      hide    hide   hide      hide    hide   hide

GET /self-evaluation/                                                            login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
GET /self-evaluation/benchmarking                                                login ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
GET /self-evaluation/new                                                         login forb   forb   forb  forb   forb    forb      ok      ok     ok        ok      ok   forb
POST /self-evaluation/new                                                        login forb   forb   forb  forb   forb    forb      bad     bad    bad       bad     bad   forb
GET /self-evaluation/partnerships/<int:partnership_id>/proposals/<int:item_id>   login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /self-evaluation/rounds/<int:round_id>                                       login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /self-evaluation/rounds/<int:round_id>/details                               login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /self-evaluation/rounds/<int:round_id>/details                              login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
GET /self-evaluation/rounds/<int:round_id>/export.docx                           login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /self-evaluation/rounds/<int:round_id>/next                                  login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /self-evaluation/rounds/<int:round_id>/next                                 login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
GET /self-evaluation/rounds/<int:round_id>/proposals/<int:item_id>               login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
POST /self-evaluation/rounds/<int:round_id>/proposals/<int:item_id>              login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /self-evaluation/rounds/<int:round_id>/proposed/<int:proposed_id>/link      login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /self-evaluation/rounds/<int:round_id>/proposed/<int:proposed_id>/track     login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /self-evaluation/rounds/<int:round_id>/proposed/<int:proposed_id>/unlink    login hide   forb   forb  hide   forb    forb      ok      ok     hide      hide    ok   forb
POST /self-evaluation/rounds/<int:round_id>/status                               login hide   forb   forb  hide   forb    forb      bad     bad    hide      hide    bad   forb

GET /workbooks/<int:workbook_id>/download                                        login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok

GET /admin/partnerships/<int:partnership_id>/sign-in                             login forb   forb   forb  forb   forb    forb      forb    ok     forb      hide    ok   forb
POST /admin/partnerships/<int:partnership_id>/sign-in                            login forb   forb   forb  forb   forb    forb      forb    ok     forb      hide    ok   forb

GET /auth/sso/<key>                                                              ok    ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok
GET /auth/sso/<key>/callback                                                     ok    ok     ok     ok    ok     ok      ok        ok      ok     ok        ok      ok   ok

GET /workbooks/<int:workbook_id>/papers                                          login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /workbooks/<int:workbook_id>/papers/<any(pdf, docx):kind>                   login hide   ok     ok    hide   ok      ok        ok      ok     hide      hide    ok   ok
GET /updates/<int:update_id>/correct                                             login hide   forb   forb  hide   ok      forb      forb    forb   hide      hide    forb forb
POST /updates/<int:update_id>/correct                                            login hide   forb   forb  hide   bad     forb      forb    forb   hide      hide    forb forb

"""

#: (row, role) -> what the cell SHOULD be, and what it does today. Each runs as a strict xfail.
KNOWN_BUGS: dict[tuple[str, str], tuple[str, str]] = {
    # None open. The access bugs found for issue 11 (roles of shared accounts changed by a partnership
    # administrator, former committee members still reaching the committee, an indicator import confirmed
    # without the upload page's check) are fixed; their cells above now say what they must be.
}


# ---------------------------------------------------------------------------------------------------------------
CLASSES = {"ok", "login", "forb", "hide", "bad", "409"}
#: Columns a request may change without changing anything: a token's time of last use.
IGNORED_COLUMNS = {("api_tokens", "last_used_at")}
#: Changes that leave the world as the next cells expect it (cookies are made afresh for every cell).
HARMLESS = {("users", "session_token")}


def parse_matrix(table_text: str) -> dict[str, dict[str, str]]:
    lines = [line for line in table_text.strip().splitlines() if line.strip() and not line.startswith("#")]
    header = lines[0].split()
    assert header[0] == "rule" and tuple(header[1:]) == ROLES, "MATRIX's header must list ROLES in order"
    table = {}
    for line in lines[1:]:
        parts = line.split()
        key, cells = " ".join(parts[:-len(ROLES)]), parts[-len(ROLES):]
        assert len(parts) > len(ROLES) + 1, f"MATRIX row {line!r} has too few cells"
        assert set(cells) <= CLASSES, f"MATRIX row {key!r}: unknown class in {cells}"
        assert key not in table, f"MATRIX has two rows for {key!r}"
        table[key] = dict(zip(ROLES, cells))
    return table


EXPECTED = parse_matrix(MATRIX)


def route_keys(app) -> dict[str, object]:
    """'METHOD rule' -> rule, for every rule of the app but static files."""
    keys = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in ("GET", "POST"):
            if method in rule.methods:
                keys[f"{method} {rule.rule}"] = rule
    return keys


ROUTES = route_keys(create_app(app_config("sqlite://")))


def _params():
    for key in ROUTES:
        for role in ROLES:
            marks = []
            if (key, role) in KNOWN_BUGS:
                should, does = KNOWN_BUGS[(key, role)]
                marks.append(pytest.mark.xfail(strict=True, reason=f"issue 11: {does}"))
            yield pytest.param(key, role, marks=marks, id=f"{key} [{role}]")


# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def matrix_app(database_url, _schema):
    app = create_app(app_config(database_url))
    app.test_client_class = FreshContextClient  # each request in its own app context, as in production
    yield app
    with app.app_context():
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


class _State:
    query = None
    world: dict | None = None
    dirty = True
    #: the tables as they are now (after the last cell), so each cell dumps them once
    tables: dict | None = None


def _fresh_world(app) -> dict:
    """Plain values of the world (ids, user ids, tokens); rebuilt after a cell that changed something."""
    if _State.dirty:
        with app.app_context():
            db.session.remove()
            _empty_all_tables()
            world = build_world()
            _State.world = {
                "ids": world.ids, "reset_token": world.reset_token, "api_tokens": world.api_tokens,
                "people": {role: person.id for role, person in world.people.items() if person is not None},
            }
            db.session.remove()
            _State.tables = dump()
        _State.dirty = False
    return _State.world


def _fingerprint_query():
    """One statement giving a fingerprint of every table (rows in primary-key order, IGNORED_COLUMNS left out),
    and of each table of HARMLESS without its harmless column: one round trip per cell on either database."""
    postgres = db.engine.dialect.name == "postgresql"

    def value(column) -> str:
        name = f'"{column.name}"'
        if isinstance(column.type, LargeBinary):
            return f"quote_nullable(md5({name}))" if postgres else f"quote(length({name}))"
        return f"quote_nullable({name}::text)" if postgres else f"quote({name})"

    def fingerprint(table, leave_out=()) -> str:
        columns = [c for c in table.columns if (table.name, c.name) not in IGNORED_COLUMNS | set(leave_out)]
        order = ", ".join(f'"{c.name}"' for c in (list(table.primary_key.columns) or columns))
        if postgres:
            row = "concat_ws(',', " + ", ".join(value(c) for c in columns) + ")"
            return f'(SELECT md5(coalesce(string_agg({row}, \';\' ORDER BY {order}), \'\')) FROM "{table.name}")'
        row = " || ',' || ".join(value(c) for c in columns)
        return f'(SELECT group_concat(r, \';\') FROM (SELECT {row} AS r FROM "{table.name}" ORDER BY {order}))'

    parts, labels = [], []
    for table in db.metadata.sorted_tables:
        parts.append(fingerprint(table))
        labels.append((table.name, "*"))
        for name, column in HARMLESS:
            if name == table.name:
                parts.append(fingerprint(table, [(name, column)]))
                labels.append((table.name, f"all but {column}"))
    return text("SELECT " + ", ".join(parts)), labels


def dump() -> dict[tuple[str, str], str]:
    """(table, '*') -> a fingerprint of its rows; (table, 'all but <column>') for each HARMLESS column."""
    if _State.query is None:
        _State.query = _fingerprint_query()
    query, labels = _State.query
    values = db.session.execute(query).one()
    db.session.rollback()
    return dict(zip(labels, values))


def changes(before: dict, after: dict) -> set[tuple[str, str]]:
    """(table, '*') for each table that changed, or (table, column) when only a HARMLESS column did."""
    found = set()
    for (table, what), fingerprint in before.items():
        if what == "*" and after[(table, what)] != fingerprint:
            harmless = [column for name, column in HARMLESS if name == table
                        and after[(table, f"all but {column}")] == before[(table, f"all but {column}")]]
            found |= {(table, column) for column in harmless} or {(table, "*")}
    return found


def path_for(rule, ids: dict, reset_token: str) -> str:
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            values[name] = ids.get(name) or re.findall(r"\w+", converter.regex)[0]
        elif name == "token" and rule.endpoint.startswith("auth."):
            values[name] = reset_token
        elif name == "key" and rule.endpoint.startswith("sso."):
            values[name] = "example"  # no single sign-on provider is configured in the matrix's app
        else:
            assert name in ids, (f"{rule.rule}: the world has no object for <{name}>: add one to "
                                 "tests/rich_world.py (RichWorld.ids)")
            values[name] = ids[name]
    return rule.build(values, append_unknown=False)[1]


def classify(response) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        location = response.headers.get("Location", "")
        # Flask-Login's redirect names the page asked for; signing out (say) goes to the plain sign-in page.
        return "login" if "/auth/sign-in" in location and "next=" in location else "ok"
    if 200 <= status < 300:
        return "ok"
    return {400: "bad", 401: "login", 403: "forb", 404: "hide", 409: "409"}.get(status, str(status))


def request_cell(app, world: dict, key: str, role: str):
    """Send the cell's request; returns (class, status, tables changed)."""
    method, _ = key.split(" ", 1)
    rule = ROUTES[key]
    path = path_for(rule, world["ids"], world["reset_token"])
    with app.app_context():
        person = None
        if role != "anon":
            person = db.session.get(User, world["people"][role])
        client = sign_in_client(app, person) if person is not None else app.test_client()
        headers = {}
        if rule.endpoint.startswith("api.") and role != "anon":
            headers["Authorization"] = f"Bearer {world['api_tokens'][role]}"
        db.session.remove()
    before = _State.tables
    kwargs = {"headers": headers}
    if method == "POST":
        kwargs.update({"json": {}} if rule.endpoint.startswith("api.") else {"data": {}})
    with client.open(path, method=method, **kwargs) as response:
        status = response.status_code
        outcome = classify(response)
    with app.app_context():
        _State.tables = dump()
    changed = changes(before, _State.tables)
    if changed - HARMLESS:
        _State.dirty = True
    return outcome, status, path, changed


def _row_for(key: str) -> str:
    return f"{key:<81}" + " ".join(f"{c:<{max(len(r), 5)}}" for c, r in zip(["login"] + ["ok"] * (len(ROLES) - 1), ROLES))


def test_every_route_has_a_row_and_every_row_a_route():
    missing = [key for key in ROUTES if key not in EXPECTED]
    assert not missing, ("These routes have no row in MATRIX (tests/test_permission_matrix.py). Add one each, "
                         "saying what each person should get:\n" + "\n".join(map(_row_for, missing)))
    stale = sorted(set(EXPECTED) - set(ROUTES))
    assert not stale, f"MATRIX has rows for routes the app no longer has: remove them: {stale}"
    stale = sorted(key for key, _ in KNOWN_BUGS if key not in ROUTES)
    assert not stale, f"KNOWN_BUGS names routes the app no longer has: {stale}"


@pytest.mark.parametrize("key,role", list(_params()))
def test_cell(matrix_app, key, role):
    assert key in EXPECTED, (
        f"{key} has no row in MATRIX (tests/test_permission_matrix.py). Add a row saying what each person "
        f"should get ({' '.join(ROLES)}), e.g.\n{_row_for(key)}")
    expected = KNOWN_BUGS.get((key, role), (EXPECTED[key][role],))[0]
    world = _fresh_world(matrix_app)
    outcome, status, path, changed = request_cell(matrix_app, world, key, role)
    assert status != 500, f"{key} as {role}: {path} answered 500"
    assert outcome == expected, f"{key} as {role}: {path} answered {status} ({outcome}), expected {expected}"
    if outcome != "ok" or key.startswith("GET "):
        assert not changed, f"{key} as {role}: {path} answered {status} but changed {sorted(changed)}"
