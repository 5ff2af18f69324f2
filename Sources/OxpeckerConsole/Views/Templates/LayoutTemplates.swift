/// The frame of every page: UTF-8, a viewport for tablets, the inline style sheet
/// (nothing is fetched from anywhere), the search box and the navigation.
enum LayoutTemplates {
    static let header = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Oxpecker console</title>
        <style>
        \(style)
        </style>
        </head>
        <body>
        <header class="top">
        <a class="brand" href="/">Oxpecker</a>
        <form class="find" method="get" action="/" role="search">
        <label for="q">Find a customer</label>
        <input id="q" name="q" type="search" value="{{query}}" placeholder="name or words of a note" autocomplete="off">
        <button type="submit">Search</button>
        </form>
        <nav aria-label="Console"><a href="/">Customers</a> <a href="/signals">Signals</a> <a href="/conflicts">Conflicts</a> <a href="/sync">Sync</a></nav>
        </header>
        <main id="main">

        """

    static let footer = """

        </main>
        <footer class="bottom">Oxpecker console · this store, on this machine · works offline</footer>
        </body>
        </html>

        """

    static let refusal = """
        {{> header}}
        <h1>{{title}}</h1>
        <p class="problem" role="alert">{{message}}</p>
        <p class="muted">HTTP {{status}}</p>
        {{> footer}}
        """

    static let style = """
        :root { --ink: #1d2428; --muted: #5b6770; --line: #d5dadd; --accent: #0d5e63; --warn: #8a1c1c; --ok: #1e6b34; --paper: #fbfbf9; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.45 system-ui, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink); background: var(--paper); }
        a { color: var(--accent); }
        a:focus, button:focus, input:focus, select:focus, textarea:focus { outline: 3px solid #f0b400; outline-offset: 1px; }
        .top { display: flex; flex-wrap: wrap; gap: .75rem 1.5rem; align-items: center; padding: .6rem 1rem; background: #e8eeee; border-bottom: 1px solid var(--line); }
        .brand { font-weight: 700; font-size: 1.15rem; text-decoration: none; }
        .find { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; flex: 1 1 20rem; }
        .find input { flex: 1 1 12rem; }
        nav a { margin-right: .8rem; }
        main { max-width: 62rem; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.6rem; margin: .4rem 0; }
        h2 { font-size: 1.25rem; margin: 1.6rem 0 .5rem; border-bottom: 2px solid var(--line); padding-bottom: .2rem; }
        h3 { font-size: 1.05rem; margin: 1rem 0 .3rem; }
        section { margin-bottom: 1rem; }
        .muted, .when { color: var(--muted); font-size: .92rem; }
        .notice { background: #e3f3e6; border-left: 4px solid var(--ok); padding: .5rem .8rem; }
        .problem { background: #fbe6e6; border-left: 4px solid var(--warn); padding: .5rem .8rem; }
        .facts { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; margin: 0; padding: 0; list-style: none; }
        .brief { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .6rem 1rem; }
        .tags { margin: .2rem 0; }
        .tag { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; background: #e4eef0; margin: 0 .3rem .2rem 0; }
        .tag.avoid { background: #f6e3e3; }
        .sources { font-size: .85rem; color: var(--muted); }
        ul.plain { list-style: none; padding: 0; margin: 0; }
        ul.plain > li { padding: .45rem 0; border-bottom: 1px solid var(--line); }
        .note-text { white-space: pre-wrap; margin: .2rem 0; }
        .redacted { color: var(--muted); font-style: italic; }
        form.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .7rem 1rem; margin: .5rem 0; }
        .row { display: flex; flex-wrap: wrap; gap: .6rem 1rem; }
        .row > div { display: flex; flex-direction: column; min-width: 10rem; flex: 1 1 10rem; }
        label { font-weight: 600; font-size: .92rem; }
        input, select, textarea, button { font: inherit; padding: .35rem .5rem; border: 1px solid #9aa5ab; border-radius: 4px; background: #fff; }
        textarea { width: 100%; min-height: 5rem; }
        button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; margin-top: .5rem; }
        button.secondary { background: #fff; color: var(--warn); border-color: var(--warn); }
        details > summary { cursor: pointer; color: var(--accent); }
        .yes { color: var(--ok); font-weight: 700; }
        .no { color: var(--warn); font-weight: 700; }
        .na { color: var(--muted); font-weight: 700; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        mark { background: #fff0a8; }
        .bottom { text-align: center; color: var(--muted); font-size: .85rem; padding: 1.5rem; }
        @media (max-width: 40rem) { main { padding: .6rem; } .row > div { min-width: 100%; } }
        """
}
