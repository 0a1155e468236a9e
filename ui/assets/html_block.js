/* flowdash.HtmlBlock (ui/html_block.py): markup the server built and escaped, as one node. */
window.flowdash = Object.assign(window.flowdash || {}, {
  HtmlBlock: function HtmlBlock(props) {
    return React.createElement('div', {dangerouslySetInnerHTML: {__html: props.markup || ''}});
  },
});
