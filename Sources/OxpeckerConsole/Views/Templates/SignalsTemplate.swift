/// Signals for a scope: who needs attention, why, the next step, and the gate's answer for reaching out.
enum SignalsTemplate {
    static let text = """
        {{> header}}
        <h1>Signals</h1>
        <form class="card" method="get" action="/signals">
        <label for="scope">Scope</label>
        <input id="scope" name="scope" value="{{scope}}" placeholder="branch:HN01 (empty: every customer)">
        <button type="submit">Show</button>
        </form>
        {{#none}}<p>No customer needs attention now.</p>{{/none}}
        <ul class="plain" aria-label="Signals">
        {{#signals}}
        <li><a href="{{customerHref}}"><strong>{{name}}</strong></a> <span class="muted">{{customer}} · {{kind}}</span><br>
        {{reason}}<br>→ {{nextStep}} <span class="{{#allowed}}yes{{/allowed}}{{^allowed}}no{{/allowed}}">({{gate}})</span></li>
        {{/signals}}
        </ul>
        {{> footer}}
        """
}
