/// Sync: the last sync, the changes waiting, the button, and what the last sync from here did.
enum SyncTemplate {
    static let text = """
        {{> header}}
        <h1>Sync</h1>
        {{#problem}}<p class="problem" role="alert">{{problem}}</p>{{/problem}}
        <table>
        <tbody>
        <tr><th scope="row">Server</th><td>{{server}}</td></tr>
        <tr><th scope="row">Last sync</th><td>{{lastSyncAt}}</td></tr>
        <tr><th scope="row">Changes waiting to be sent</th><td>{{waiting}}</td></tr>
        <tr><th scope="row">Changes the server refused, kept for a person</th><td>{{rejections}}</td></tr>
        <tr><th scope="row">Changes of a newer version, kept until an upgrade</th><td>{{parked}}</td></tr>
        </tbody>
        </table>
        {{#canSync}}
        <form class="card" method="post" action="/sync">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p>Sends this store's changes and brings everyone else's, as <code>oxpecker sync</code> does.</p>
        <button type="submit">Sync now</button>
        </form>
        {{/canSync}}
        {{^canSync}}<p class="muted">To sync from here, start the console with <code>--token</code> (or <code>OXPECKER_TOKEN</code>) and, for a store that never synced, <code>--server</code>.</p>{{/canSync}}
        {{#last}}
        <h2>The last sync from this console</h2>
        <p class="{{#failed}}no{{/failed}}{{^failed}}yes{{/failed}}">{{at}} with {{server}}</p>
        <ul>{{#lines}}<li>{{.}}</li>{{/lines}}</ul>
        {{/last}}
        {{> footer}}
        """
}
