"""The game's pages: Starlette, HTML rendered on the server, a little JavaScript that polls.

Who may do what: a team's session (made by its join code) opens only its own brand's page, form
and chart; the teacher's session (made by the teacher key) opens the teacher's page and controls.
Sessions are cookies holding a random token; each team holds at most MAX_TEAM_SESSIONS screens
(the longest idle one is let go after IDLE_SECONDS), and a client that keeps trying wrong codes is
told to wait. Nothing is fetched from another site: the pages work offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import secrets
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import economics
from . import charts
from .game import LEVER_LABELS, LEVERS, PRICE_RANGE, RIVAL, Game, GameError, stories

MAX_TEAM_SESSIONS = 4       # screens per team at once
MAX_TEACHER_SESSIONS = 4
IDLE_SECONDS = 60           # a screen silent this long may be let go for a new one
MAX_FAILED = 10             # wrong codes or keys a client may try ...
FAILED_WINDOW = 60.0        # ... within this many seconds
MAX_BODY = 10_000           # bytes of a form
TEAM_COOKIE, TEACHER_COOKIE = "momentsim_team", "momentsim_teacher"

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

STYLE = """
body{font-family:system-ui,sans-serif;max-width:980px;margin:1em auto;padding:0 1em;color:#222}
h1{font-size:1.5em} h2{font-size:1.15em;margin-top:1.4em} table{border-collapse:collapse}
td,th{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:left} .num{text-align:right}
.ok{color:#08660f} .bad{color:#b00020} .muted{color:#666} .box{border:1px solid #ccc;padding:.8em;border-radius:6px}
label{display:inline-block;min-width:15em} input,select,button{font-size:1em;margin:.15em}
.review{margin:.2em 0} .err{color:#b00020;font-weight:bold}
"""

SCRIPT = """
(function(){
  // Poll the status; when the round (or whether it is running) changes, fetch the page again and
  // swap its body in place: lighter than a navigation when a whole class updates at once. A session
  // gone (the server restarted) reloads the page, which then asks to join again.
  function poll(){
    var body=document.body, url=body.dataset.status; if(!url) return;
    fetch(url,{credentials:'same-origin',cache:'no-store'}).then(function(r){
      if(r.status===401||r.status===403){location.replace(location.pathname);return null;}  // session gone
      return r.json();
    }).then(function(s){
      if(!s) return;
      if(String(s.round)!==body.dataset.round||String(s.running)!==body.dataset.running){return refresh();}
      var list=document.getElementById('submitted');
      if(list&&s.submitted){list.textContent=s.submitted.length?s.submitted.join(', '):'nobody yet';}
      var left=document.getElementById('timer');
      if(left){left.textContent=s.seconds_left==null?'off':Math.round(s.seconds_left)+' s';}
    }).catch(function(){}).finally(function(){setTimeout(poll,700);});
  }
  function refresh(){
    return fetch(location.pathname,{credentials:'same-origin',cache:'no-store'}).then(function(r){
      if(!r.ok){location.replace(location.pathname);return;}
      return r.text().then(function(text){
        var fresh=new DOMParser().parseFromString(text,'text/html').body;
        document.body.innerHTML=fresh.innerHTML;
        ['status','round','running'].forEach(function(k){document.body.dataset[k]=fresh.dataset[k]||'';});
      });
    });
  }
  setTimeout(poll,700);
})();
"""


@dataclass
class Session:
    role: str        # "team" or "teacher"
    team: str
    last_seen: float


class Sessions:
    """Tokens to sessions, bounded per team and for the teacher; wrong codes counted per client."""

    def __init__(self):
        self.by_token: dict[str, Session] = {}
        self.failed: dict[str, deque] = {}

    def get(self, token: str | None, role: str) -> Session | None:
        session = self.by_token.get(token or "")
        if session is None or session.role != role:
            return None
        session.last_seen = time.monotonic()
        return session

    def open(self, role: str, team: str) -> str | None:
        """A new session's token, or None when the team's (the teacher's) screens are all in use."""
        limit = MAX_TEACHER_SESSIONS if role == "teacher" else MAX_TEAM_SESSIONS
        mine = [(t, s) for t, s in self.by_token.items() if s.role == role and s.team == team]
        if len(mine) >= limit:
            token, oldest = min(mine, key=lambda ts: ts[1].last_seen)
            if time.monotonic() - oldest.last_seen < IDLE_SECONDS:
                return None
            del self.by_token[token]
        token = secrets.token_urlsafe(24)
        self.by_token[token] = Session(role, team, time.monotonic())
        return token

    def too_many_failures(self, client: str) -> bool:
        now = time.monotonic()
        recent = self.failed.setdefault(client, deque())
        while recent and now - recent[0] > FAILED_WINDOW:
            recent.popleft()
        return len(recent) >= MAX_FAILED

    def fail(self, client: str) -> None:
        self.failed.setdefault(client, deque()).append(time.monotonic())
        if len(self.failed) > 10_000:  # bounded memory whatever the clients do
            self.failed.clear()


def e(value) -> str:
    return html.escape(str(value), quote=True)


def page(title: str, body: str, status: int = 200, status_url: str = "", round_number: int = 0,
         running: bool = False) -> HTMLResponse:
    data = (f' data-status="{e(status_url)}" data-round="{round_number}" data-running="{str(running).lower()}"'
            if status_url else "")
    text = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{STYLE}</style></head>"
            f"<body{data}>{body}<script src='/static/game.js'></script></body></html>")
    return HTMLResponse(text, status_code=status, headers=SECURITY_HEADERS)


def refusal(title: str, message: str, status: int, join: bool = False) -> HTMLResponse:
    form = JOIN_FORM if join else ""
    return page(title, f"<h1>{e(title)}</h1><p class='err' id='refusal'>{e(message)}</p>{form}", status)


JOIN_FORM = ("<form method='post' action='/join' class='box'><label for='code'>Your team's join code</label>"
             "<input id='code' name='code' autocomplete='off' maxlength='32' required autofocus> "
             "<button type='submit' id='join'>Join</button></form>")


def money(value: float) -> str:
    return f"{value:,.0f}"


async def form_of(request: Request) -> dict[str, str] | None:
    """The posted form (URL-encoded), or None when it is too large."""
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        return None
    body = await request.body()
    if len(body) > MAX_BODY:
        return None
    try:
        parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=50)
    except ValueError:  # more fields than any form of the game has
        return None
    return {k: v[0] for k, v in parsed.items()}


def make_app(game: Game) -> Starlette:
    sessions = Sessions()
    svg_cache: dict[tuple, bytes] = {}
    tasks: set = set()

    def client(request: Request) -> str:
        return request.client.host if request.client else "?"

    def brand_index(team: str) -> int:
        return game.config.teams.index(team)

    unit = economics.currency(game.config.scenario().params)  # the scenario's currency, or "units"

    def start_advance() -> bool:
        if not game.begin_advance():
            return False
        game.error = None
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, game.advance)
        tasks.add(future)
        future.add_done_callback(tasks.discard)
        future.add_done_callback(lambda f: f.exception())  # the error is shown on the teacher's page
        return True

    # --- joining ---
    async def home(request: Request):
        return page("momentsim classroom", "<h1>The brand game</h1><p>Each team runs one brand on a simulated "
                    "market. Type the join code your teacher gave your team.</p>" + JOIN_FORM)

    async def join(request: Request):
        who = client(request)
        if sessions.too_many_failures(who):
            return refusal("Please wait", "Too many wrong codes from this computer: wait a minute, then "
                           "check the code with your teacher.", 429)
        form = await form_of(request)
        if form is None:
            return refusal("Too large", "That form is too large.", 413)
        team = game.team_for_code(form.get("code", ""))
        if team is None:
            sessions.fail(who)
            return refusal("Unknown code", "That is not a join code of this game. Check it with your "
                           "teacher (codes have 6 letters and digits).", 403, join=True)
        token = sessions.open("team", team)
        if token is None:
            return refusal("Team full", f"Team {team} already has {MAX_TEAM_SESSIONS} screens open. Please "
                           f"share one of them, or try again in a minute.", 503)
        response = RedirectResponse(f"/team/{team}", status_code=303)
        response.set_cookie(TEAM_COOKIE, token, httponly=True, samesite="strict")
        return response

    def team_guard(request: Request) -> tuple[str | None, Response | None]:
        name = request.path_params["team"]
        session = sessions.get(request.cookies.get(TEAM_COOKIE), "team")
        if session is None:
            return None, refusal("Please join", "Join with your team's code to see your brand.", 401, join=True)
        if session.team != name:
            return None, refusal("Not your brand", f"You are team {session.team}: you can see and change only "
                                 f"your own brand.", 403)
        return name, None

    # --- a team's page ---
    async def team_page(request: Request, errors: dict[str, str] | None = None, values=None, status=200):
        team, refused = team_guard(request)
        if refused:
            return refused
        with game.lock:
            body = team_body(team, errors or {}, values)
            round_number, running = game.round, game.running
        return page(f"{team} - momentsim classroom", body, status, f"/team/{team}/status", round_number, running)

    def team_body(team: str, errors: dict[str, str], values) -> str:
        cfg, k = game.config, game.round
        parts = [f"<h1>Team {e(team)}</h1>",
                 f"<p id='round' data-round='{k}'>Round {k} of {cfg.rounds} played"
                 f"{' - the market is being simulated...' if game.running else ''}. Each round lasts "
                 f"{cfg.days_per_round} days.</p>"]
        if k:
            o = game.outcomes[-1][team]
            parts.append(f"<h2>Round {k}: your results</h2><table id='results'>"
                         f"<tr><th>Sales</th><td class='num'>{o['sales']:,}</td>"
                         f"<th>Share of sales</th><td class='num'>{o['share']:.1%}</td></tr>"
                         f"<tr><th>Revenue</th><td class='num'>{money(o['revenue'])}</td>"
                         f"<th>Profit</th><td class='num' id='profit'>{money(o['profit'])}</td></tr>"
                         f"<tr><th>Rating (all reviews)</th><td class='num'>{o['rating']:.2f}★ "
                         f"({o['reviews_total']:,})</td>"
                         f"<th>Net sentiment</th><td class='num'>{o['net_sentiment']:+.2f}</td></tr>"
                         f"<tr><th>Customers won</th><td class='num'>{o['acquisitions']:,}</td>"
                         f"<th>Customers kept</th><td class='num'>{o['retentions']:,}</td></tr>"
                         f"<tr><th>Spent on ads</th><td class='num'>{money(o['spend_ads'])}</td>"
                         f"<th>on prompts / service</th><td class='num'>{money(o['spend_prompts'])} / "
                         f"{money(o['spend_service'])}</td></tr></table>")
            lines, sampled = stories(o, game.seed, k, brand_index(team))
            hit = [i for i in game.injections[-1] if i["kind"] == "price_war" or i["team"] == team]
            news = "".join(f"<li class='bad'>{e(_news(i))}</li>" for i in hit)
            reviews = "".join(f"<p class='review'>{'★' * s}{'☆' * (5 - s)} “{e(text)}”</p>"
                              for s, text in sampled)
            parts.append(f"<h2>What customers say</h2><ul id='stories'>{news}"
                         + "".join(f"<li>{e(line)}</li>" for line in lines) + f"</ul>{reviews}")
            parts.append(f"<img id='chart' alt='your market share and profit' "
                         f"src='/team/{e(team)}/chart.svg?round={k}' width='720'>")
        if game.finished:
            parts.append("<h2>The game is over</h2><p>Your teacher will show the debrief.</p>")
            return "".join(parts)
        levers = values or game.current_levers(team)
        submitted = team in game.pending
        state = (f"<p class='ok' id='state'>Submitted for round {k + 1}. You may change it until the teacher "
                 f"advances.</p>" if submitted else
                 f"<p class='muted' id='state'>Not yet submitted for round {k + 1}: if you do not, your "
                 f"levers stay as they are.</p>")
        fields = []
        low, high = (f * cfg.start["price"] for f in PRICE_RANGE)
        limits = {"price": (low, high), "quality": (0, 1), "ad_spend": (0, cfg.budget),
                  "review_prompting": (0, 1), "service_recovery": (0, 1)}
        for lever in LEVERS:
            lo, hi = limits[lever]
            err = f" <span class='err' id='error-{lever}'>{e(errors[lever])}</span>" if lever in errors else ""
            fields.append(f"<p><label for='{lever}'>{e(LEVER_LABELS[lever])}</label>"
                          f"<input id='{lever}' name='{lever}' value='{e(_fmt(levers.get(lever, '')))}' "
                          f"inputmode='decimal'> <span class='muted'>{lo:g} to {hi:g}</span>{err}</p>")
        general = "".join(f"<p class='err'>{e(msg)}</p>" for key, msg in errors.items() if key not in LEVERS)
        parts.append(f"<h2>Your decisions for round {k + 1}</h2>{state}{general}"
                     f"<form method='post' action='/team/{e(team)}/submit' class='box' id='decisions'>"
                     + "".join(fields)
                     + f"<p class='muted'>Budget: at most {cfg.budget:g} a day on ads. Quality costs: each "
                       f"0.1 above {cfg.start['quality']:g} adds 1 to the cost of each unit sold. Review prompts "
                       f"and complaints handled are paid per use (a higher service recovery costs more per "
                       f"complaint).</p><button type='submit' id='submit'>Submit decisions</button></form>")
        return "".join(parts)

    async def team_submit(request: Request):
        team, refused = team_guard(request)
        if refused:
            return refused
        form = await form_of(request)
        if form is None:
            return refusal("Too large", "That form is too large.", 413)
        if form.get("team", team) != team:
            return refusal("Not your brand", f"You are team {team}: you can change only your own brand.", 403)
        errors = game.submit(team, form)
        if errors:
            return await team_page(request, errors, {k: form.get(k, "") for k in LEVERS}, 400)
        return RedirectResponse(f"/team/{team}", status_code=303)

    async def team_status(request: Request):
        team, refused = team_guard(request)
        if refused:
            return JSONResponse({"error": "not your brand"}, status_code=refused.status_code)
        with game.lock:
            return JSONResponse({"round": game.round, "running": game.running, "finished": game.finished,
                                 "submitted_me": team in game.pending}, headers={"Cache-Control": "no-store"})

    async def team_chart(request: Request):
        team, refused = team_guard(request)
        if refused:
            return refused
        return await svg(("team", team, game.round), lambda: charts.team_chart(
            game.money, team, brand_index(team), game.config.days_per_round, game.round, unit))

    async def svg(key, draw) -> Response:
        """A chart, drawn once per round in a worker thread (the event loop keeps answering the others)."""
        if game.money is None or game.round == 0:
            return Response(status_code=404)
        if key not in svg_cache:
            if len(svg_cache) > 500:
                svg_cache.clear()
            svg_cache[key] = await asyncio.get_running_loop().run_in_executor(None, draw)
        return Response(svg_cache[key], media_type="image/svg+xml", headers={"Cache-Control": "no-store"})

    # --- the teacher ---
    def teacher_guard(request: Request) -> Response | None:
        if sessions.get(request.cookies.get(TEACHER_COOKIE), "teacher") is None:
            return refusal("Teacher key needed", "This page needs the teacher key: open the teacher address "
                           "printed when the game started (…/teacher?key=…).", 403)
        return None

    async def teacher(request: Request):
        key = request.query_params.get("key")
        if key is not None:
            who = client(request)
            if sessions.too_many_failures(who):
                return refusal("Please wait", "Too many wrong keys from this computer: wait a minute.", 429)
            if not game.is_teacher_key(key):
                sessions.fail(who)
                return refusal("Wrong teacher key", "That is not the teacher key of this game.", 403)
            token = sessions.open("teacher", "")
            if token is None:
                return refusal("Too many teacher screens", f"The teacher's page is open on "
                               f"{MAX_TEACHER_SESSIONS} screens already; try again in a minute.", 503)
            response = RedirectResponse("/teacher", status_code=303)  # the key leaves the address bar
            response.set_cookie(TEACHER_COOKIE, token, httponly=True, samesite="strict")
            return response
        refused = teacher_guard(request)
        if refused:
            return refused
        with game.lock:
            body, round_number, running = teacher_body(request.query_params.get("msg", "")), game.round, game.running
        return page("Teacher - momentsim classroom", body, 200, "/teacher/status", round_number, running)

    def teacher_body(message: str) -> str:
        cfg, k = game.config, game.round
        parts = [f"<h1>Teacher: the brand game</h1><p id='round' data-round='{k}'>Round {k} of {cfg.rounds} "
                 f"played ({cfg.days_per_round} days a round, scenario {e(cfg.scenario_name)}, "
                 f"{len(cfg.teams)} teams and the house brand '{RIVAL}')."
                 f"{' <b>Simulating the round...</b>' if game.running else ''}</p>"]
        if message:
            parts.append(f"<p class='err' id='message'>{e(message[:300])}</p>")
        if game.error:
            parts.append(f"<p class='err'>The last round failed and was not played: {e(game.error[:300])}</p>")
        if not game.finished:
            submitted = [t for t in cfg.teams if t in game.pending]
            codes = "".join(f"<tr><td>{e(t)}</td><td><code>{e(game.codes[t])}</code></td></tr>" for t in cfg.teams)
            pending = ", ".join(_news(i) for i in game.pending_injections) or "none"
            parts.append(
                f"<h2>Round {k + 1}</h2><p>Submitted: <span id='submitted'>{e(', '.join(submitted) or 'nobody yet')}"
                f"</span></p><details id='codes'><summary>Join codes (not on the projector)</summary>"
                f"<table>{codes}</table></details>"
                f"<form method='post' action='/teacher/advance'><button id='advance' type='submit'>"
                f"Advance to round {k + 1} results</button></form>"
                f"<form method='post' action='/teacher/timer'><label for='seconds'>Advance by itself in (seconds, "
                f"0 to stop)</label><input id='seconds' name='seconds' value='0' size='5'> "
                f"<button type='submit' id='set-timer'>Set timer</button> Timer: <span id='timer'>"
                f"{'off' if game.deadline is None else 'on'}</span></form>"
                f"<form method='post' action='/teacher/inject'><label for='kind'>Inject an event this round</label>"
                f"<select id='kind' name='kind'><option value='quality_crisis'>quality crisis for a team"
                f"</option><option value='price_war'>price war by the rival</option></select> "
                f"<select name='team' id='inject-team'>"
                + "".join(f"<option>{e(t)}</option>" for t in cfg.teams)
                + f"</select> <button type='submit' id='inject'>Inject</button></form>"
                  f"<p>Events for round {k + 1}: <span id='events'>{e(pending)}</span></p>")
        if k:
            rows = "".join(f"<tr><td>{i}</td><td>{e(r['team'])}</td><td class='num'>{money(r['profit'])}</td>"
                           f"<td class='num'>{r['share']:.1%}</td><td class='num'>{r['net_sentiment']:+.2f}</td>"
                           f"<td class='num'>{r['rating']:.2f}</td></tr>"
                           for i, r in enumerate(game.leaderboard(), 1))
            parts.append(f"<h2>Leaderboard</h2><table id='leaderboard'><tr><th>#</th><th>team</th><th>profit so far"
                         f"</th><th>share (last round)</th><th>net sentiment</th><th>rating</th></tr>{rows}</table>"
                         f"<img id='board' alt='profit and share of every brand' src='/teacher/board.svg?round={k}' "
                         f"width='900'>")
            options = "".join(f"<option>{e(t)}</option>" for t in cfg.teams)
            rounds = "".join(f"<option>{r}</option>" for r in range(1, k + 1))
            parts.append("<h2>Debrief</h2><p>" + " ".join(
                f"<a href='/teacher/debrief/{e(t)}'>{e(t)}</a>" for t in cfg.teams)
                + f"</p><form method='get' action='/teacher/whatif'>What if <select name='team' id='whatif-team'>"
                  f"{options}</select> had not changed its levers in round <select name='round' id='whatif-round'>"
                  f"{rounds}</select>? <button type='submit' id='whatif'>Replay with the "
                  f"same random seed (a few seconds)</button></form>"
                  f"<p>Export: <a href='/teacher/decisions.csv' id='export'>decisions.csv</a> (decisions and "
                  f"outcomes per round) · <a href='/teacher/scenario.toml'>scenario.toml</a></p>")
        if game.finished:
            parts.append("<p class='ok' id='over'>The game is over.</p>")
        return "".join(parts)

    async def teacher_status(request: Request):
        if teacher_guard(request):
            return JSONResponse({"error": "teacher key needed"}, status_code=403)
        with game.lock:
            left = None if game.deadline is None else max(0.0, game.deadline - time.time())
            return JSONResponse({"round": game.round, "running": game.running, "finished": game.finished,
                                 "submitted": [t for t in game.config.teams if t in game.pending],
                                 "seconds_left": left})

    async def teacher_advance(request: Request):
        if refused := teacher_guard(request):
            return refused
        if game.finished:
            return RedirectResponse("/teacher?msg=The+game+is+over.", status_code=303)
        start_advance()
        return RedirectResponse("/teacher", status_code=303)

    async def teacher_inject(request: Request):
        if refused := teacher_guard(request):
            return refused
        form = await form_of(request) or {}
        try:
            game.inject(form.get("kind", ""), form.get("team"))
        except GameError as exc:
            return RedirectResponse("/teacher?" + _query(msg=str(exc)), status_code=303)
        return RedirectResponse("/teacher", status_code=303)

    async def teacher_timer(request: Request):
        if refused := teacher_guard(request):
            return refused
        form = await form_of(request) or {}
        text = form.get("seconds", "")[:20]
        try:
            seconds = float(text)
            if not 0 <= seconds <= 3600:
                raise ValueError
        except ValueError:
            return RedirectResponse("/teacher?" + _query(msg=f"seconds: expected a number from 0 to 3600, "
                                                             f"found {text!r}"), status_code=303)
        game.set_timer(seconds)
        return RedirectResponse("/teacher", status_code=303)

    async def teacher_board(request: Request):
        if refused := teacher_guard(request):
            return refused
        return await svg(("board", game.round), lambda: charts.board_chart(
            game.money, [*game.config.teams, RIVAL], game.config.days_per_round, game.round, currency=unit))

    async def teacher_debrief(request: Request):
        if refused := teacher_guard(request):
            return refused
        team = request.path_params["team"]
        if team not in game.config.teams:
            return refusal("No such team", f"team: expected one of {', '.join(game.config.teams)}", 404)
        rows = "".join(
            f"<tr><td>{k}</td>" + "".join(f"<td class='num'>{_fmt(lv[x])}</td>" for x in LEVERS)
            + f"<td class='num'>{money(o['profit'])}</td><td class='num'>{o['share']:.1%}</td>"
              f"<td class='num'>{o['net_sentiment']:+.2f}</td></tr>"
            for k, (lv, o) in enumerate(zip(_levers_by_round(team), [x[team] for x in game.outcomes]), 1))
        body = (f"<p><a href='/teacher'>back</a></p><h1>Debrief: {e(team)}</h1>"
                f"<img alt='decisions and outcomes' src='/teacher/debrief/{e(team)}.svg?round={game.round}' "
                f"width='900'><table id='debrief'><tr><th>round</th>"
                + "".join(f"<th>{e(x)}</th>" for x in LEVERS)
                + f"<th>profit</th><th>share</th><th>net sentiment</th></tr>{rows}</table>")
        return page(f"Debrief {team}", body)

    def _levers_by_round(team: str) -> list[dict]:
        from .game import team_levers

        return [team_levers(game.config, game.decisions, team, k) for k in range(1, game.round + 1)]

    async def teacher_debrief_svg(request: Request):
        if refused := teacher_guard(request):
            return refused
        team = request.path_params["team"]
        if team not in game.config.teams:
            return Response(status_code=404)
        return await svg(("debrief", team, game.round), lambda: charts.debrief_chart(
            _levers_by_round(team), [o[team] for o in game.outcomes], team, brand_index(team), currency=unit))

    async def teacher_whatif(request: Request):
        if refused := teacher_guard(request):
            return refused
        team = request.query_params.get("team", "")
        try:
            round_number = int(request.query_params.get("round", "")[:6])
        except ValueError:
            round_number = 0
        try:
            result = await asyncio.get_running_loop().run_in_executor(None, game.what_if, team, round_number)
        except GameError as exc:
            return RedirectResponse("/teacher?" + _query(msg=str(exc)), status_code=303)
        key = ("whatif", team, round_number, game.round)
        if key not in svg_cache:
            svg_cache[key] = charts.whatif_chart(result["money_actual"], result["money_whatif"], team,
                                                 round_number, game.config.days_per_round, game.round,
                                                 brand_index(team), currency=unit)
        changed = ", ".join(f"{x} {_fmt(v)}" for x, v in result["decision"].items()) or "nothing (no submission)"
        body = (f"<p><a href='/teacher'>back</a></p><h1>What if {e(team)} had not changed its levers in round "
                f"{round_number}?</h1><p>Its decision that round: {e(changed)}. The same random seed, every other "
                f"decision as played.</p><p id='whatif-result'>Profit over the game: as played "
                f"<b>{money(result['profit_actual'])}</b>, without that decision "
                f"<b>{money(result['profit_whatif'])}</b> (difference "
                f"{money(result['profit_actual'] - result['profit_whatif'])}).</p>"
                f"<img alt='what if' src='/teacher/whatif.svg?team={e(team)}&amp;round={round_number}' width='900'>")
        return page("What if", body)

    async def teacher_whatif_svg(request: Request):
        if refused := teacher_guard(request):
            return refused
        try:
            key = ("whatif", request.query_params.get("team", ""), int(request.query_params.get("round", "")[:6]),
                   game.round)
        except ValueError:
            return Response(status_code=404)
        if key not in svg_cache:
            return Response(status_code=404)
        return Response(svg_cache[key], media_type="image/svg+xml")

    async def teacher_export(request: Request):
        if refused := teacher_guard(request):
            return refused
        name = request.path_params["name"]
        if name not in ("decisions.csv", "scenario.toml"):
            return refusal("Not found", "No such page.", 404)
        with game.lock:
            files = game.export_files()
        kind = "text/csv" if name.endswith(".csv") else "application/toml"
        return Response(files[name], media_type=kind,
                        headers={"Content-Disposition": f"attachment; filename=classroom-{name}"})

    async def script(request: Request):
        return Response(SCRIPT, media_type="text/javascript", headers={"Cache-Control": "no-store"})

    async def timer_loop():
        while True:
            await asyncio.sleep(0.5)
            deadline = game.deadline
            if deadline is not None and time.time() >= deadline and not game.running and not game.finished:
                start_advance()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        task = asyncio.create_task(timer_loop())
        yield
        task.cancel()

    routes = [
        Route("/", home), Route("/join", join, methods=["POST"]),
        Route("/static/game.js", script),
        Route("/team/{team}", team_page), Route("/team/{team}/submit", team_submit, methods=["POST"]),
        Route("/team/{team}/status", team_status), Route("/team/{team}/chart.svg", team_chart),
        Route("/teacher", teacher), Route("/teacher/status", teacher_status),
        Route("/teacher/advance", teacher_advance, methods=["POST"]),
        Route("/teacher/inject", teacher_inject, methods=["POST"]),
        Route("/teacher/timer", teacher_timer, methods=["POST"]),
        Route("/teacher/board.svg", teacher_board),
        Route("/teacher/debrief/{team}.svg", teacher_debrief_svg), Route("/teacher/debrief/{team}", teacher_debrief),
        Route("/teacher/whatif", teacher_whatif), Route("/teacher/whatif.svg", teacher_whatif_svg),
        Route("/teacher/{name:str}", teacher_export),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.game = game
    app.state.sessions = sessions
    return app


def _news(injection: dict) -> str:
    if injection["kind"] == "price_war":
        return f"Price war: the {RIVAL} brand cut its price this round."
    return f"Quality crisis at {injection['team']}: a bad batch this round."


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _query(**params) -> str:
    from urllib.parse import urlencode

    return urlencode(params)
