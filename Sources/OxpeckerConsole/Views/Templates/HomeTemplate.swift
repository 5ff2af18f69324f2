/// The start page: search results for `?q=`, else the customers of this store.
enum HomeTemplate {
    static let text = """
        {{> header}}
        {{#searched}}
        <h1>Customers matching “{{query}}”</h1>
        {{#noHits}}<p>No customer's name or notes match every word of “{{query}}”. Accents do not matter; words match as prefixes.</p>{{/noHits}}
        <ul class="plain" aria-label="Search results">
        {{#hits}}
        <li><a href="{{href}}"><strong>{{name}}</strong></a> <span class="muted">{{customer}} · {{source}}</span><br>
        <span>{{#parts}}{{#marked}}<mark>{{text}}</mark>{{/marked}}{{^marked}}{{text}}{{/marked}}{{/parts}}</span></li>
        {{/hits}}
        </ul>
        {{/searched}}
        {{^searched}}
        <h1>Customers</h1>
        {{#noCustomers}}<p>This store has no customers yet. Add some with <code>oxpecker customer add</code>, or sync.</p>{{/noCustomers}}
        <table>
        <thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Stage</th><th scope="col">Advisor</th></tr></thead>
        <tbody>
        {{#customers}}
        <tr><td><a href="{{href}}">{{name}}</a></td><td>{{customer}}</td><td>{{stage}}</td><td>{{advisor}}</td></tr>
        {{/customers}}
        </tbody>
        </table>
        {{#more}}<p class="muted">The first {{shown}} customers by id; search to find others.</p>{{/more}}
        {{/searched}}
        {{> footer}}
        """
}
